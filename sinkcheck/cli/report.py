"""``sinkcheck report``: the main job (see :mod:`sinkcheck.report.runner`)."""

from __future__ import annotations

from pathlib import Path

import click

from sinkcheck.cli.options import FORCE, out_option
from sinkcheck.core.files import OutputDir
from sinkcheck.ledger import FAILING, KINDS, VERDICT_TEXT
from sinkcheck.report.registry import CHECK_VERDICTS
from sinkcheck.report.runner import claim_rows, run_report


@click.command()
@click.option("--profile", type=click.Choice(["quick", "full"]), default="quick", show_default=True,
              help="quick: minutes on 2 CPU cores; full: larger samples and training runs.")
@out_option("sinkcheck-report", "report")
@FORCE
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random instance and run.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 when a theorem fails or an empirical claim is not reproduced.")
@click.option("--only", multiple=True, help="Run only the named check, or the checks of the named claim id (repeatable).")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def report(profile: str, out: Path, force: bool, seed: int, device: str, strict: bool, only: tuple[str, ...],
           no_progress: bool) -> None:
    """Run every check and write tables, figures, certificates and a summary to OUT."""
    from sinkcheck.core.attention_torch import pick_device

    target = OutputDir(out, "report", force=force)
    pick_device(device)  # "cuda" without a GPU: a one-line error, exit 2
    certs = run_report(target, seed=seed, profile=profile, device=device, only=only, progress=not no_progress)
    rows = claim_rows(certs)
    parts = []
    for kind in KINDS:
        mine = [r for r in rows if r.kind == kind]
        counts = {v: sum(r.verdict == v for r in mine) for v in CHECK_VERDICTS}
        if mine:
            parts.append(f"{len(mine)} {kind} claims: " + ", ".join(f"{counts[v]} {VERDICT_TEXT[v]}"
                                                                  for v in CHECK_VERDICTS if counts[v]))
    click.echo(f"wrote {out}/summary.md and {out}/summary.html; " + "; ".join(parts))
    if strict and any(r.verdict in FAILING for r in rows):
        raise SystemExit(1)
