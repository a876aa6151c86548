"""``sinkcheck claims``: the claims ledger (:mod:`sinkcheck.claims`), one row per claim."""

from __future__ import annotations

import click

from sinkcheck.claims import CLAIMS_LIST, PAPERS
from sinkcheck.core.tables import FORMATS, Table, dumps, render

COLUMNS = ["id", "paper", "where", "expected verdict", "added hypothesis", "docs"]


def ledger_table() -> Table:
    rows = [[c.id, PAPERS[c.paper].short, c.where, c.expected_verdict, c.hypothesis or "", c.docs_url]
            for c in CLAIMS_LIST]
    return Table(COLUMNS, rows, title="The claims sinkcheck checks (expected verdicts: quick profile)")


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True,
              help="json gives every field of each record.")
def claims(fmt: str) -> None:
    """List every claim of the three papers that sinkcheck checks: id, paper and where, expected
    verdict, added hypothesis and docs page."""
    if fmt == "json":
        click.echo(dumps([c.as_dict() for c in CLAIMS_LIST]), nl=False)
    else:
        click.echo(render(ledger_table(), fmt), nl=False)
