"""``sinkcheck claims``: the claims ledger (:mod:`sinkcheck.claims`), one row per claim."""

from __future__ import annotations

import click

from sinkcheck.claims import CLAIMS_LIST
from sinkcheck.ledger import KINDS, PAPERS, VERDICT_TEXT
from sinkcheck.core.tables import FORMATS, Table, dumps, render

COLUMNS = ["id", "kind", "statement", "paper", "where", "expected verdict", "added hypothesis", "docs"]


def ledger_table() -> Table:
    """One row per claim, theorems first, then empirical claims (each in ledger order)."""
    ordered = sorted(CLAIMS_LIST, key=lambda c: KINDS.index(c.kind))
    rows = [[c.id, c.kind, c.statement_source, PAPERS[c.paper].short, c.where, VERDICT_TEXT[c.expected_verdict],
             c.hypothesis or "", c.docs_url] for c in ordered]
    return Table(COLUMNS, rows, title="The claims sinkcheck checks (expected verdicts: quick profile)")


def findings_table() -> Table:
    """The short table of the README's findings: id, kind, whose statement, verdict."""
    ordered = sorted(CLAIMS_LIST, key=lambda c: KINDS.index(c.kind))
    return Table(["claim", "kind", "statement", "verdict"],
                 [[f"`{c.id}`", c.kind, c.statement_source, VERDICT_TEXT[c.expected_verdict]] for c in ordered],
                 title="The verdict per claim (quick profile)")


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True,
              help="json gives every field of each record.")
@click.option("--brief", is_flag=True, help="Only id, kind, whose statement and verdict (the README's table).")
def claims(fmt: str, brief: bool) -> None:
    """List every claim of the papers that sinkcheck checks: id, kind (theorem or empirical),
    whose statement (the paper's or reconstructed), paper and where, expected verdict, added
    hypothesis and docs page (json: every field, with our setting and the paper's)."""
    if fmt == "json":
        click.echo(dumps([c.as_dict() for c in CLAIMS_LIST]), nl=False)
    else:
        click.echo(render(findings_table() if brief else ledger_table(), fmt), nl=False)
