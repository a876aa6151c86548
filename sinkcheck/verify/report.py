"""``sinkcheck report``: run every registered check and write tables, figures, certificates
and a summary (Markdown and HTML) with a verdict per theorem.

The output is built in a sibling temporary directory and moved into place only when the run
completes, so a failed run leaves no partial output behind.
"""

from __future__ import annotations

import html
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate
from tqdm import tqdm

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.verify.registry import Certificate, Context, library_versions, load_checks
from sinkcheck.verify.tables import Table, dumps, fmt_number, render, write_table

VERDICT_TEXT = {
    "holds": "holds as stated",
    "holds_with_hypothesis": "holds with an added hypothesis",
    "fails": "fails",
    "skipped": "skipped",
}


def _write_certificate(cert: Certificate, ctx: Context, root: Path) -> None:
    payload = {
        "check": cert.check,
        "theorem": cert.theorem,
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


SEVERITY = {"fails": 3, "holds_with_hypothesis": 2, "holds": 1, "skipped": 0}
"""A theorem's verdict is the most severe verdict among its checks."""


def _note(c: Certificate) -> str:
    if c.verdict == "fails":
        return "counterexample in the certificate"
    if c.added_hypothesis:
        return "added hypothesis: see its section"
    if c.counterexample:
        return "a counterexample to the claim without its hypothesis is recorded"
    return ""


def theorem_table(certs: list[Certificate]) -> Table:
    """One row per theorem: its most severe verdict and how many checks back it."""
    order: dict[str, list[Certificate]] = {}
    for c in certs:
        order.setdefault(c.theorem, []).append(c)
    rows = []
    for theorem, group in order.items():
        worst = max(group, key=lambda c: SEVERITY[c.verdict]).verdict
        rows.append([theorem, VERDICT_TEXT[worst], ", ".join(c.check for c in group)])
    return Table(["theorem", "verdict", "checks"], rows, title="Verdict per theorem")


def check_table(certs: list[Certificate]) -> Table:
    """One row per check: its verdict and a short note."""
    rows = [[c.check, VERDICT_TEXT[c.verdict], _note(c)] for c in certs]
    return Table(["check", "verdict", "note"], rows, title="Verdict per check")


def _sections(c: Certificate) -> list[tuple[str, str]]:
    """(label, text) pairs describing one check, shared by the Markdown and HTML pages."""
    parts = [("Statement", c.statement), ("Verdict", VERDICT_TEXT[c.verdict])]
    if c.added_hypothesis:
        parts.append(("Added hypothesis", c.added_hypothesis))
    if c.counterexample:
        parts.append(("Counterexample", dumps(c.counterexample).strip()))
    return parts


def _write_summary(certs: list[Certificate], ctx: Context, root: Path) -> None:
    intro = (f"Profile `{ctx.profile}`, seed {ctx.seed}, device `{ctx.device}`. Each check has a JSON "
             "certificate in `certificates/` (statement, parameters, seed, margins, verdict, library "
             "versions); tables are in `tables/` (Markdown, CSV, LaTeX) and figures in `figures/`.")
    md = ["# sinkcheck report", "", intro, "", "## Verdict per theorem", "",
          render(theorem_table(certs), "markdown"), "## Verdict per check", "",
          render(check_table(certs), "markdown")]
    page = ["<h1>sinkcheck report</h1>", f"<p>{html.escape(intro)}</p>",
            "<h2>Verdict per theorem</h2>", _html_table(theorem_table(certs)),
            "<h2>Verdict per check</h2>", _html_table(check_table(certs))]
    for c in certs:
        md += [f"## `{c.check}`: {c.theorem}", ""]
        page.append(f"<h2 id='{html.escape(c.check)}'><code>{html.escape(c.check)}</code>: "
                    f"{html.escape(c.theorem)}</h2>")
        for label, text in _sections(c):
            if label == "Counterexample":
                md += [f"**{label}.**", "", "```json", text, "```", ""]
                page.append(f"<p><b>{label}.</b></p><pre>{html.escape(text)}</pre>")
            else:
                md += [f"**{label}.** {text}", ""]
                page.append(f"<p><b>{label}.</b> {html.escape(text)}</p>")
        for name in sorted(c.tables):
            md += [f"Table `{name}`: {c.tables[name].title}", "", render(c.tables[name], "markdown")]
            page += [f"<p>Table <code>{html.escape(name)}</code>: {html.escape(c.tables[name].title)}</p>",
                     _html_table(c.tables[name])]
        for fig in c.figures:
            md += [f"![{fig}](figures/{fig})", ""]
            page.append(f"<p><img src='figures/{html.escape(fig)}' alt='{html.escape(fig)}' style='max-width:100%'></p>")
    (root / "summary.md").write_text("\n".join(md))
    head = ("<!doctype html><html><head><meta charset='utf-8'><title>sinkcheck report</title><style>"
            "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .5em}"
            "pre{background:#f5f5f5;padding:.5em;overflow-x:auto}</style></head><body>")
    (root / "summary.html").write_text(head + "\n".join(page) + "\n</body></html>\n")


def _html_table(table: Table) -> str:
    rows = [[fmt_number(v) for v in row] for row in table.rows]
    return tabulate(rows, headers=table.columns, tablefmt="html")


def run_report(out: Path, seed: int = 0, profile: str = "quick", device: str = "cpu",
               only: tuple[str, ...] = (), progress: bool = True) -> list[Certificate]:
    """Run the registered checks (all, or those named in ``only``) and write the report to ``out``."""
    out = Path(out)
    validate.integer_at_least("--seed", seed, 0)
    checks = load_checks()
    unknown = [name for name in only if name not in checks]
    if unknown:
        raise InvalidInputError(f"--only: unknown check {unknown[0]!r} (known: {', '.join(checks)})")
    names = [n for n in checks if not only or n in only]
    parent = out.resolve().parent
    if not parent.exists():
        raise InvalidInputError(f"--out: parent directory {parent} does not exist")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    except OSError as exc:
        raise InvalidInputError(f"--out: cannot write in {parent} ({exc.strerror})") from None
    timings: dict[str, float] = {}
    try:
        for sub in ("certificates", "tables", "figures"):
            (tmp / sub).mkdir()
        ctx = Context(seed=seed, profile=profile, out_dir=tmp, device=device, progress=progress)
        certs = []
        bar = tqdm(names, desc="sinkcheck report", unit="check", disable=not progress)
        for name in bar:
            bar.set_postfix_str(name)
            started = time.perf_counter()
            cert = checks[name](ctx)
            timings[name] = time.perf_counter() - started  # shown, never written: outputs stay byte-stable
            _write_certificate(cert, ctx, tmp)
            certs.append(cert)
        _write_summary(certs, ctx, tmp)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
        if progress:
            slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:5]
            tqdm.write("slowest checks: " + ", ".join(f"{k} {v:.1f}s" for k, v in slowest), file=sys.stderr)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return certs
