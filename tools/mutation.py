"""Mutation testing of the theorem encodings (docs/testing.md): a harness on top of mutmut 3.

``python -m tools.mutation run`` runs mutmut over every module under
``sinkcheck/theory/`` and ``sinkcheck/construct/`` (configured in pyproject.toml, ``[tool.mutmut]``;
new modules are picked up without edits), then writes ``mutation-results.md`` (in the current directory): the score per
module and every surviving mutant with its classification from ``tools/mutation_equivalent.toml``.
``python -m tools.mutation report`` rewrites the table from the last run's results.

The harness is a developer tool, not a ``sinkcheck`` subcommand: it needs a source checkout (mutmut
copies the tree into ``./mutants``) and the ``mutation`` extra.  The table is deterministic for a
given set of results (no timings, no absolute paths).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import click

from sinkcheck.errors import InvalidInputError
from sinkcheck.core.tables import Table, render

EQUIVALENT = Path(__file__).with_name("mutation_equivalent.toml")
"""The survivors classified as equivalent, with their reasons."""

TARGETS = ("sinkcheck/theory", "sinkcheck/construct")
"""The mutated packages (the same globs as ``only_mutate`` in pyproject.toml)."""

STATUS_BY_EXIT_CODE = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
                       34: "skipped", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
                       255: "timeout", 37: "killed", -11: "segfault", -9: "segfault", None: "not checked"}
"""mutmut 3's exit code -> status (mutmut.stats.status_by_exit_code; 37 = caught by the type check)."""


@dataclass(frozen=True)
class Mutant:
    """One mutant: its mutmut name, module, function, status and the changed line(s)."""

    name: str
    module: str
    function: str
    status: str
    change: str = ""


@dataclass
class ModuleScore:
    """Counts per status for one module; score = killed / (killed + survived + timeout + no tests)."""

    module: str
    counts: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        total = sum(self.counts.get(s, 0) for s in ("killed", "survived", "timeout", "no tests"))
        return self.counts.get("killed", 0) / total if total else float("nan")


def function_of(name: str) -> tuple[str, str]:
    """(module, function) of a mutmut name ``pkg.mod.x_func__mutmut_7`` or ``pkg.mod.xǁClsǁmeth__mutmut_7``."""
    head, _, _ = name.rpartition("__mutmut_")
    module, _, func = head.rpartition(".")
    func = func[2:] if func.startswith("x_") else func.lstrip("x").replace("ǁ", ".").strip(".")
    return module, func


def read_results(root: Path = Path(".")) -> list[Mutant]:
    """Every mutant recorded in ``root/mutants/**.py.meta`` for the target packages, sorted by name."""
    out = []
    for target in TARGETS:
        for meta in sorted((root / "mutants" / target).rglob("*.py.meta")):
            try:
                data = json.loads(meta.read_text())
                codes = data["exit_code_by_key"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InvalidInputError(f"mutants: cannot read mutmut results {meta} ({exc})") from None
            for name, code in codes.items():
                module, func = function_of(name)
                out.append(Mutant(name, module, func, STATUS_BY_EXIT_CODE.get(code, "suspicious")))
    return sorted(out, key=lambda m: _natural(m.name))


def _natural(name: str):
    head, _, num = name.rpartition("__mutmut_")
    return (head, int(num) if num.isdigit() else 0)


def describe_change(name: str) -> str:
    """The mutant's changed line(s) as ``old -> new`` (from mutmut's own diff of ``./mutants``)."""
    try:
        from mutmut.mutation.diff_apply import get_diff_for_mutant
    except ImportError:  # pragma: no cover - the mutation extra is not installed
        return "(install the mutation extra to see the diff)"
    module, _ = function_of(name)
    diff = get_diff_for_mutant(name, path=Path(module.replace(".", "/") + ".py"))
    old = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    new = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(old) + " -> " + " / ".join(new)


def load_equivalent(path: Path) -> list[dict]:
    """The human classifications: a list of {function, change or pattern, reason}
    (tools/mutation_equivalent.toml).

    A survivor matches an entry when ``function`` equals ``module.function`` and ``change`` equals its
    ``old -> new`` text (or ``pattern`` matches it, ``*`` = any text), so entries survive mutmut
    renumbering the mutants of an edited function.
    """
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"equivalent: {path} is not valid TOML ({exc})") from None
    entries = data.get("equivalent", [])
    for i, e in enumerate(entries):
        missing = {"function", "reason"} - set(e) | ({"change"} if not {"change", "pattern"} & set(e) else set())
        if missing:
            raise InvalidInputError(f"equivalent: entry {i} of {path} lacks {', '.join(sorted(missing))}")
    return entries


def _matches(entry: dict, function: str, change: str) -> bool:
    """``entry`` covers the survivor: same function, and the same change or a ``pattern`` whose ``*``
    stands for any text (no other wildcard, so brackets in code need no escaping)."""
    if entry["function"] != function:
        return False
    change = " ".join(change.split())
    if "change" in entry:
        return " ".join(entry["change"].split()) == change
    parts = [re.escape(" ".join(p.split())) for p in entry["pattern"].split("*")]
    return re.fullmatch(".*".join(parts), change) is not None


def classify(survivors: list[Mutant], entries: list[dict]) -> list[tuple[Mutant, str]]:
    """Each survivor with "equivalent: <reason>" from a matching entry, else "needs a test"."""
    out = []
    for m in survivors:
        hit = next((e for e in entries if _matches(e, f"{m.module}.{m.function}", m.change)), None)
        out.append((m, f"equivalent: {hit['reason']}" if hit else "needs a test"))
    return out


def scores(mutants: list[Mutant]) -> list[ModuleScore]:
    """One :class:`ModuleScore` per module, sorted by module name."""
    by = {}
    for m in mutants:
        s = by.setdefault(m.module, ModuleScore(m.module))
        s.counts[m.status] = s.counts.get(m.status, 0) + 1
    return [by[k] for k in sorted(by)]


def results_markdown(mutants: list[Mutant], classified: list[tuple[Mutant, str]], stale: list[dict]) -> str:
    """The results page: a score table and the survivors table."""
    cols = ["module", "mutants", "killed", "survived", "equivalent", "timeout", "no tests", "not checked",
            "score", "score (equivalents removed)"]
    rows = []
    for s in scores(mutants):
        eq = sum(1 for m, c in classified if m.module == s.module and c.startswith("equivalent"))
        n = sum(s.counts.values())
        killed, surv = s.counts.get("killed", 0), s.counts.get("survived", 0)
        denom = killed + surv + s.counts.get("timeout", 0) + s.counts.get("no tests", 0)
        rows.append([s.module, n, killed, surv, eq, s.counts.get("timeout", 0), s.counts.get("no tests", 0),
                     s.counts.get("not checked", 0), f"{s.score:.3f}" if denom else "n/a",
                     f"{killed / (denom - eq):.3f}" if denom > eq else "n/a"])
    lines = ["## Mutation score per module", "",
             render(Table(cols, rows, ""), "markdown", verbatim=(8, 9)).strip(), "",
             "Score: killed / (killed + survived + timeout + no tests); a timeout counts as not killed. "
             "\"not checked\": mutants generated but not run yet (a module whose mutants are all not checked "
             "has not been measured).",
             "", "## Surviving mutants", ""]
    if classified:
        srows = [[f"`{m.name.rpartition('.')[2]}`", f"`{m.module}.{m.function}`",
                  f"`{m.change}`".replace("|", "\\|"), c] for m, c in classified]
        lines += [render(Table(["mutant", "function", "change (old -> new)", "classification"], srows, ""),
                          "markdown").strip(), ""]
    else:
        lines += ["None: every mutant was killed.", ""]
    needs = sum(c == "needs a test" for _, c in classified)
    lines += [f"Survivors needing a test: {needs}.", ""]
    if stale:
        lines += ["Entries of tools/mutation_equivalent.toml that matched no survivor (stale, "
                  "or their mutant is now killed): " + ", ".join(f"`{e['function']}`" for e in stale) + ".", ""]
    return "\n".join(lines)


def selected(function: str, only: tuple[str, ...]) -> bool:
    """Whether ``module.function`` matches one of the ``fnmatch`` patterns ``only`` (all match when empty)."""
    return not only or any(fnmatch.fnmatchcase(function, pat) for pat in only)


def merged_results(roots: tuple[Path, ...]) -> list[tuple[Mutant, Path]]:
    """Each mutant once, with the working copy that holds its verdict: the first of ``roots`` in which it
    was checked (else the first root).  Copies of one tree run side by side on different functions each
    list every mutant, "not checked" where another copy ran it."""
    best: dict[str, tuple[Mutant, Path]] = {}
    for root in roots:
        for m in read_results(root):
            if m.name not in best or (best[m.name][0].status == "not checked" and m.status != "not checked"):
                best[m.name] = (m, root)
    return [best[k] for k in sorted(best, key=_natural)]


def write_report(root: Path | tuple[Path, ...] = Path("."), out: Path | None = None,
                 equivalent: Path | None = None, only: tuple[str, ...] = ()) -> tuple[str, int]:
    """Read the last run's results and write the Markdown page; return (text, survivors needing a test).

    ``root``: a working copy, or several whose results are merged (:func:`merged_results`).
    ``only``: report just the functions ``module.function`` matching these patterns (a run of a few
    functions by name), and judge only their equivalence entries stale or not."""
    roots = (root,) if isinstance(root, Path) else tuple(root)
    found = [(m, r) for m, r in merged_results(roots) if selected(f"{m.module}.{m.function}", only)]
    mutants = [m for m, _ in found]
    if not mutants:
        what = f" for {', '.join(only)}" if only else ""
        raise InvalidInputError(f"mutants: no mutmut results found{what}; "
                                "run `python -m tools.mutation run`")
    survivors = []
    for m, r in found:
        if m.status in ("survived", "no tests", "timeout"):
            with contextlib.chdir(r):  # mutmut reads ./mutants
                survivors.append(Mutant(m.name, m.module, m.function, m.status, describe_change(m.name)))
    entries = [e for e in load_equivalent(equivalent or EQUIVALENT)
               if selected(e["function"], only)]
    classified = classify(survivors, entries)
    stale = [e for e in entries if not any(_matches(e, f"{m.module}.{m.function}", m.change) for m, _ in classified)]
    text = results_markdown(mutants, classified, stale)
    out = out or Path("mutation-results.md")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)  # no partial page on failure
    return text, sum(c == "needs a test" for _, c in classified)


MUTMUT_ENV = {"SINKCHECK_PROFILE": "mutation", "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""Set for every mutmut run: mutmut forks one child per mutant from a parent that has already run the
tests, and a thread pool created in the parent does not exist in the child.  Clarabel (the SDP solver
behind cvxpy) waits forever on its rayon pool in a forked child unless that pool has one thread, so
without this every surviving mutant whose tests solve an SDP hangs and is reported as a timeout.
SINKCHECK_PROFILE=mutation selects the hypothesis profile without shrinking (tests/conftest.py): a
mutant that fails a property test is killed at its first failing example instead of timing out
while hypothesis shrinks it."""


def _mutmut() -> list[str]:
    exe = Path(sys.executable).with_name("mutmut")
    if not exe.exists():
        raise InvalidInputError("mutmut: not installed; pip install -e '.[mutation]'")
    return [str(exe)]


@click.group()
def cli() -> None:
    """Mutation testing of sinkcheck/theory and sinkcheck/construct (docs/testing.md)."""


@cli.command()
@click.option("--max-children", type=int, default=2, show_default=True, help="Parallel mutmut workers.")
@click.option("--fresh", is_flag=True, help="Delete ./mutants first (re-run every mutant).")
def run(max_children: int, fresh: bool) -> None:
    """Run mutmut (new mutants, then every earlier survivor again), then write mutation-results.md."""
    if fresh and Path("mutants").exists():
        import shutil

        shutil.rmtree("mutants")
    base = _mutmut() + ["run", "--max-children", str(max_children)]
    env = {**os.environ, **MUTMUT_ENV}
    subprocess.run(base, check=False, env=env)  # every mutant without a result (new or edited functions)
    # mutmut keeps old verdicts; tests may have changed since, so re-check every earlier survivor by name
    again = [m.name for m in read_results() if m.status in ("survived", "timeout", "no tests")]
    for i in range(0, len(again), 200):
        subprocess.run(base + again[i:i + 200], check=False, env=env)
    _report()


def _report(out: Path | None = None, only: tuple[str, ...] = (), roots: tuple[Path, ...] = ()) -> None:
    out = out or Path("mutation-results.md")
    text, needs = write_report(roots or (Path("."),), out=out, only=only,
                               equivalent=EQUIVALENT)
    click.echo(text.split("## Surviving")[0].strip())
    click.echo(f"wrote {out}: {needs} survivor(s) need a test")


@cli.command()
@click.option("--only", multiple=True, metavar="PATTERN",
              help="Report only functions module.function matching this fnmatch pattern (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Page to write  [default: mutation-results.md]")
@click.option("--root", "roots", multiple=True, metavar="DIR",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A working copy whose ./mutants to read (repeatable: copies run side by side are merged)  "
                   "[default: .]")
def report(only: tuple[str, ...], out: Path | None, roots: tuple[Path, ...]) -> None:
    """Rewrite mutation-results.md (or --out) from the last run's results in ./mutants."""
    _report(out, only, roots)


def main() -> None:
    from sinkcheck.errors import SinkcheckError

    try:
        cli(standalone_mode=False)
    except SinkcheckError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
