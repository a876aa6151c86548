"""``sinkcheck report``: run every registered check and write tables, figures, certificates
and a summary (Markdown and HTML) with a verdict per theorem.

The output is built in a sibling temporary directory and moved into place only when the run
completes, so a failed run leaves no partial output behind.
"""

from __future__ import annotations

import html
import shutil
import tempfile
from pathlib import Path

from tqdm import tqdm

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.verify.registry import Certificate, Context, library_versions, load_checks
from sinkcheck.verify.tables import SUFFIX, Table, dumps, render

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
        for fmt in ("markdown", "csv", "latex"):
            (root / "tables" / f"{cert.check}.{name}.{SUFFIX[fmt]}").write_text(render(table, fmt))


def summary_table(certs: list[Certificate]) -> Table:
    rows = []
    for c in certs:
        detail = c.added_hypothesis or ("counterexample in certificate" if c.counterexample else "")
        rows.append([c.theorem, c.check, VERDICT_TEXT[c.verdict], detail])
    return Table(["theorem", "check", "verdict", "hypothesis / note"], rows, title="Verdicts")


def _write_summary(certs: list[Certificate], ctx: Context, root: Path) -> None:
    table = summary_table(certs)
    lines = [
        "# sinkcheck report",
        "",
        f"Profile `{ctx.profile}`, seed {ctx.seed}, device `{ctx.device}`. "
        "Each check has a JSON certificate in `certificates/`; tables are in `tables/` "
        "(Markdown, CSV, LaTeX) and figures in `figures/`.",
        "",
        render(table, "markdown"),
    ]
    for c in certs:
        lines += [f"## {c.theorem}: `{c.check}`", "", f"**Statement.** {c.statement}", "",
                  f"**Verdict.** {VERDICT_TEXT[c.verdict]}."]
        if c.added_hypothesis:
            lines += ["", f"**Added hypothesis.** {c.added_hypothesis}"]
        for name in sorted(c.tables):
            lines += ["", f"Table `{name}`: {c.tables[name].title}", "", render(c.tables[name], "markdown")]
        for fig in c.figures:
            lines += ["", f"![{fig}](figures/{fig})"]
        lines.append("")
    (root / "summary.md").write_text("\n".join(lines))
    body = [f"<h1>sinkcheck report</h1><p>Profile <code>{html.escape(ctx.profile)}</code>, seed {ctx.seed}.</p>"]
    body.append("<table border='1' cellpadding='4'><tr>" +
                "".join(f"<th>{html.escape(h)}</th>" for h in table.columns) + "</tr>")
    for row in table.rows:
        body.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>")
    body.append("</table>")
    for c in certs:
        body.append(f"<h2>{html.escape(c.theorem)}</h2><p><b>Statement.</b> {html.escape(c.statement)}</p>"
                    f"<p><b>Verdict.</b> {VERDICT_TEXT[c.verdict]}"
                    + (f" ({html.escape(c.added_hypothesis)})" if c.added_hypothesis else "") + "</p>")
        for fig in c.figures:
            body.append(f"<img src='figures/{html.escape(fig)}' style='max-width:48em'>")
    page = "<!doctype html><html><head><meta charset='utf-8'><title>sinkcheck report</title></head><body>"
    (root / "summary.html").write_text(page + "\n".join(body) + "</body></html>\n")


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
    try:
        for sub in ("certificates", "tables", "figures"):
            (tmp / sub).mkdir()
        ctx = Context(seed=seed, profile=profile, out_dir=tmp, device=device, progress=progress)
        certs = []
        for name in tqdm(names, desc="sinkcheck report", unit="check", disable=not progress):
            cert = checks[name](ctx)
            _write_certificate(cert, ctx, tmp)
            certs.append(cert)
        _write_summary(certs, ctx, tmp)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return certs
