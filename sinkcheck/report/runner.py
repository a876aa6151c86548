"""``sinkcheck report``: run every registered check and write tables, figures, certificates
and a summary (Markdown and HTML, rendered from the Jinja2 templates in ``templates/``) with a
verdict per claim of the ledger (:mod:`sinkcheck.claims`).

The output is built in a sibling temporary directory and moved into place only when the run
completes, so a failed run leaves no partial output behind.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jinja2
from tabulate import tabulate
from tqdm import tqdm

from sinkcheck import claims, ledger, validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.report.registry import Certificate, Context, library_versions, load_checks
from sinkcheck.core.files import OutputDir
from sinkcheck.core.tables import Table, dumps, fmt_number, render, write_table
from sinkcheck.ledger import SEVERITY, VERDICT_TEXT


def _write_certificate(cert: Certificate, ctx: Context, root: Path) -> None:
    payload = {
        "check": cert.check,
        "claim": cert.claim,
        "statement": cert.statement,
        "verdict": cert.verdict,
        "added_hypothesis": cert.added_hypothesis,
        "counterexample": cert.counterexample,
        "parameters": cert.parameters,
        "evidence": cert.evidence,
        "seed": ctx.seed,
        "profile": ctx.profile,
        "tables": sorted(cert.tables),
        "figures": cert.figures,
        "versions": library_versions(),
    }
    (root / "certificates" / f"{cert.check}.json").write_text(dumps(payload))
    for name, table in cert.tables.items():
        write_table(table, root / "tables" / f"{cert.check}.{name}", ("markdown", "csv", "latex"))


DOCS_BASE = "../docs/_build/html"
"""Where the summary's docs links point, relative to the report (the README's docs build, next to
the default ``sinkcheck-report``)."""


@dataclass
class ClaimRow:
    """One claim of the summary: its ledger record (None for a check of your own outside the
    ledger), its certificates and their most severe verdict."""

    id: str
    record: ledger.Claim | None
    certs: list[Certificate]

    @property
    def verdict(self) -> str:
        return max(self.certs, key=lambda c: SEVERITY[c.verdict]).verdict

    @property
    def kind(self) -> str:
        """The claim's kind ("theorem" or "empirical"); a check of your own says by its verdict."""
        if self.record:
            return self.record.kind
        return "empirical" if self.verdict in ledger.KIND_VERDICTS["empirical"] else "theorem"

    @property
    def source(self) -> str:
        return self.record.statement_source if self.record else "yours"

    @property
    def setting(self) -> str:
        """Our setting and the paper's, for an empirical claim."""
        if not (self.record and self.record.setting):
            return ""
        return f"ours: {self.record.setting}; the paper's: {self.record.paper_setting}"

    @property
    def paper(self) -> str:
        return ledger.PAPERS[self.record.paper].short if self.record else "(your own)"

    @property
    def where(self) -> str:
        return self.record.where if self.record else ""

    @property
    def hypothesis(self) -> str:
        return "; ".join(dict.fromkeys(c.added_hypothesis for c in self.certs if c.added_hypothesis))

    @property
    def key_numbers(self) -> str:
        return "; ".join(k for c in self.certs if c.verdict != "holds" and c.counterexample
                         for k in [key_numbers(c.counterexample)] if k)


KEY_WORDS = ("slack", "lam", "bos", "sink", "cos", "error", "frac", "layer", "case")
"""Counterexample entries whose name contains one of these come first in the summary."""


def key_numbers(counterexample: dict, limit: int = 4) -> str:
    """A few scalar entries (or short lists) of a counterexample, two levels deep, named entries first."""
    items = []
    for key, value in counterexample.items():
        if isinstance(value, dict):
            items += [(f"{key}.{k}", v) for k, v in value.items() if not isinstance(v, dict)]
        else:
            items.append((key, value))
    shown = [(k, [fmt_number(x, 4) for x in v] if isinstance(v, list) else fmt_number(v, 4)) for k, v in items
             if (isinstance(v, (int, float, str)) and not isinstance(v, bool))
             or (isinstance(v, list) and 0 < len(v) <= 3 and all(isinstance(x, (int, float)) for x in v))]
    shown.sort(key=lambda kv: not any(w in kv[0].lower() for w in KEY_WORDS))  # stable: named first
    return ", ".join(f"{k} = {v}" for k, v in shown[:limit])


def claim_rows(certs: list[Certificate]) -> list[ClaimRow]:
    """The certificates grouped by claim: theorems first, then empirical claims, each in ledger order
    (paper order), claims outside the ledger last within their kind."""
    by_claim: dict[str, list[Certificate]] = {}
    for c in certs:
        by_claim.setdefault(c.claim, []).append(c)
    order = [c.id for c in claims.CLAIMS_LIST if c.id in by_claim] + \
        [cid for cid in by_claim if cid not in claims.CLAIMS]
    rows = [ClaimRow(cid, claims.CLAIMS.get(cid), by_claim[cid]) for cid in order]
    return sorted(rows, key=lambda r: ledger.KINDS.index(r.kind))  # stable: ledger order within a kind


def claim_table(certs: list[Certificate]) -> Table:
    """One row per claim: kind, statement source, paper, verdict, added hypothesis or settings,
    counterexample, checks."""
    rows = [[r.id, r.kind, r.source, f"{r.paper}, {r.where}" if r.where else r.paper, VERDICT_TEXT[r.verdict],
             r.setting or r.hypothesis, r.key_numbers, ", ".join(c.check for c in r.certs)] for r in claim_rows(certs)]
    return Table(["claim", "kind", "statement", "paper", "verdict", "added hypothesis / settings", "counterexample",
                  "checks"], rows, title="Verdict per claim")


def _write_summary(certs: list[Certificate], ctx: Context, root: Path, docs_base: str = DOCS_BASE) -> None:
    rows = claim_rows(certs)
    context = {"ctx": ctx, "rows": rows, "papers": ledger.PAPERS, "verdict_text": VERDICT_TEXT, "kinds": ledger.KINDS,
               "docs_base": docs_base, "dumps": lambda x: dumps(x).strip(), "html_table": _html_table,
               "markdown_table": lambda t: render(t, "markdown"), "claim_table": render(claim_table(certs), "markdown")}
    for name in ("summary.md", "summary.html"):
        (root / name).write_text(TEMPLATES.get_template(f"{name}.j2").render(**context))


TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("sinkcheck.report", "templates"),
                               autoescape=jinja2.select_autoescape(["html.j2"]), trim_blocks=True,
                               lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def _html_table(table: Table) -> str:
    rows = [[fmt_number(v) for v in row] for row in table.rows]
    return tabulate(rows, headers=table.columns, tablefmt="html")


def run_report(out: Path | OutputDir, seed: int = 0, profile: str = "quick", device: str = "cpu",
               only: tuple[str, ...] = (), progress: bool = True) -> list[Certificate]:
    """The main job, top-down: select the checks (all, or those named in ``only``: check names or
    claim ids), run them on one context, write each certificate with its tables, then the summary
    by claim. Everything is staged and replaces the report's earlier files only when the run
    completes (:class:`~sinkcheck.core.files.OutputDir`: nothing else in ``out`` is touched)."""
    validate.integer_at_least("--seed", seed, 0)
    out = out if isinstance(out, OutputDir) else OutputDir(out, "report")
    checks = select_checks(only)
    with out.staged() as root:
        for sub in ("certificates", "tables", "figures"):
            (root / sub).mkdir()
        ctx = Context(seed=seed, profile=profile, out_dir=root, device=device, progress=progress)
        certs = run_checks(checks, ctx)
        for cert in certs:
            _write_certificate(cert, ctx, root)
        _write_summary(certs, ctx, root)
    return certs


def select_checks(only: tuple[str, ...] = ()) -> dict[str, Callable[[Context], Certificate]]:
    """The registered checks in report order, restricted to ``only`` (check names or claim ids)."""
    checks = load_checks()
    wanted = {n for name in only for n in (claims.CLAIMS[name].checks if name in claims.CLAIMS else (name,))}
    unknown = sorted(name for name in wanted if name not in checks)
    if unknown:
        raise InvalidInputError(f"--only: unknown check or claim {unknown[0]!r} (checks: {', '.join(checks)}; "
                                "claims: sinkcheck claims)")
    return {n: fn for n, fn in checks.items() if not only or n in wanted}


def run_checks(checks: dict[str, Callable[[Context], Certificate]], ctx: Context) -> list[Certificate]:
    """Run each check on ``ctx`` with a progress bar; the slowest are named on stderr afterwards
    (timings are shown, never written: outputs stay byte-stable)."""
    certs, timings = [], {}
    bar = tqdm(checks.items(), desc="sinkcheck report", unit="check", disable=not ctx.progress)
    for name, fn in bar:
        bar.set_postfix_str(name)
        started = time.perf_counter()
        certs.append(fn(ctx))
        timings[name] = time.perf_counter() - started
    if ctx.progress:
        slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:5]
        tqdm.write("slowest checks: " + ", ".join(f"{k} {v:.1f}s" for k, v in slowest), file=sys.stderr)
    return certs
