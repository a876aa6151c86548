"""Summary tables and plots of a sweep, from its database rows (sorted by key, so the same rows
give the same bytes).

- ``summary`` (every kind): tasks, finished, failed; ``failures``: every failed task and its error;
- sinkdiag (Súkeník et al., Section 7): ``violations``, per inequality and pattern, how often it
  holds, is violated inside / outside the hypothesis its claim adds, or is undecided, with the
  worst slack and its task; ``lambda_threshold``, per C and fallback, the empirical lambda
  threshold of the two upper bounds (the smallest sampled lambda above every violation) beside
  the closed-form threshold of the construction (:mod:`sinkcheck.theory.sinkdiag_bounds`), and
  its plot ``lambda_threshold.png``;
- trigger, dormant, variant: ``runs`` (one row per run) and ``means`` (mean over replicates).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

import numpy as np

from sinkcheck.core.figures import pyplot, save
from sinkcheck.core.tables import Table
from sinkcheck.evaluate.sinkdiag_result import PATTERNS, Evaluation, Inequality
from sinkcheck.sweep import kinds as K

UPPER_BOUNDS = (("U_sink", "sink"), ("U_diag", "diag"))


def _of(rows: list[dict], kind: str, ok: bool = True) -> list[dict]:
    return [r for r in rows if r["kind"] == kind and (r["status"] == "ok" or not ok)]


def tables(rows: list[dict]) -> dict[str, Table]:
    """Every table of the rows' kinds, by file stem."""
    kinds = sorted({r["kind"] for r in rows})
    out = {"summary": Table(["kind", "tasks", "ok", "failed"],
                            [[k, len(_of(rows, k, ok=False)), len(_of(rows, k)),
                              len(_of(rows, k, ok=False)) - len(_of(rows, k))] for k in kinds],
                            title="Tasks in the database"),
           "failures": Table(["key", "kind", "params", "error"],
                             [[r["key"], r["kind"], _short(r["params"]), r["error"]]
                              for r in rows if r["status"] == "failed"], title="Failed tasks and their errors")}
    if "sinkdiag" in kinds:
        out["violations"] = violation_table(_of(rows, "sinkdiag"))
        out["lambda_threshold"] = threshold_table(_of(rows, "sinkdiag"))
    for k in kinds:
        if k != "sinkdiag":
            out[f"{k}_runs"], out[f"{k}_means"] = run_tables(k, _of(rows, k))
    return out


def figures(rows: list[dict]) -> dict[str, Callable]:
    """Every figure of the rows, by file name -> a function writing it to a path."""
    ok = _of(rows, "sinkdiag")
    return {"lambda_threshold.png": lambda path: plot_thresholds(ok, path)} if ok else {}


def _short(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()))


def _num(x) -> float | None:
    """A number stored in a row ("inf" and friends are strings in JSON), or None."""
    return None if x is None else float(x)


def violation_table(rows: list[dict]) -> Table:
    """Per (pattern, inequality): verdict counts split by the added hypothesis, the worst slack and
    its task, and that task's counterexample file when it violates this inequality."""
    out = []
    evaluations = [(r, Evaluation.from_json(r["result"])) for r in rows]
    for pattern in PATTERNS:
        for ineq in Inequality:
            count = defaultdict(int)
            worst = None
            for r, res in evaluations:
                v = res.pattern(pattern).verdict(ineq)
                inside = res.inside_hypothesis(pattern, ineq)
                verdict, slack = v.verdict, v.slack
                count[verdict + (" inside" if inside else " outside") if verdict == "violated" else verdict] += 1
                if slack is not None and (worst is None or (slack, r["key"]) < worst[:2]):  # its file only if violated here
                    worst = (slack, r["key"], r["counterexample"] if verdict == "violated" else None)
            out.append([pattern, ineq.value, len(rows), count["holds"], count["violated inside"],
                        count["violated outside"], count["undecided"], count["n/a"],
                        worst[0] if worst else None, worst[1] if worst else None, worst[2] if worst else None])
    return Table(["pattern", "inequality", "tasks", "holds", "violated inside hypothesis",
                  "violated outside hypothesis", "undecided", "n/a", "worst slack", "worst task", "counterexample"],
                 out, title="Section 7 inequalities over the sweep (slack = rhs - lhs; QK costs)")


def closed_form_threshold(bound: str, C: int, fallback: bool) -> float:
    """The lambda from which the construction meets the stated QK upper bound (closed form)."""
    from sinkcheck.theory import sinkdiag_bounds as T

    if bound == "U_sink":
        return float(T.sink_upper_lambda_threshold(C, fallback))
    return float(T.diag_upper_lambda_threshold(fallback))


def thresholds(rows: list[dict]) -> list[dict]:
    """Per (C, fallback, bound): the largest sampled lambda with a violation and the smallest above
    it where the bound holds on every decided task (the empirical threshold), and the closed form."""
    groups = defaultdict(list)
    for r in rows:
        groups[(r["params"]["C"], r["params"]["fallback"])].append((r, Evaluation.from_json(r["result"])))
    out = []
    for (C, fallback), rs in sorted(groups.items()):
        for bound, pattern in UPPER_BOUNDS:
            verdicts = [(r["params"]["lam"], ev.pattern(pattern).verdict(Inequality.OPT_UPPER).verdict)
                        for r, ev in rs]
            bad = [lam for lam, v in verdicts if v == "violated"]
            top = max(bad, default=None)
            above = sorted({lam for lam, v in verdicts if v == "holds" and (top is None or lam > top)})
            above = [lam for lam in above if all(v != "violated" for m, v in verdicts if m >= lam)]
            out.append({"C": C, "fallback": fallback, "bound": bound, "tasks": len(rs), "violated_max": top,
                        "holds_from": above[0] if above else None,
                        "closed_form": closed_form_threshold(bound, C, fallback)})
    return out


def threshold_table(rows: list[dict]) -> Table:
    """:func:`thresholds` as a table."""
    cols = ["C", "fallback", "bound", "tasks", "violated_max", "holds_from", "closed_form"]
    return Table(["C", "fallback", "bound", "tasks", "largest lambda violated", "holds from lambda",
                  "closed-form threshold (construction)"],
                 [[t[c] for c in cols] for t in thresholds(rows)],
                 title="Empirical lambda threshold of the upper bounds (OPT <= U, QK parts) per C")


def plot_thresholds(rows: list[dict], path) -> None:
    """The empirical threshold per C (a bar from the largest violated lambda to the smallest
    holding one) beside the closed-form threshold of the construction, one panel per bound."""
    plt = pyplot()
    ts = thresholds(rows)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for ax, (bound, _) in zip(axes, UPPER_BOUNDS):
        for fallback, colour in ((True, "tab:blue"), (False, "tab:red")):
            sel = [t for t in ts if t["bound"] == bound and t["fallback"] == fallback]
            if not sel:
                continue
            Cs = [t["C"] for t in sel]
            ax.plot(Cs, [t["closed_form"] for t in sel], "-", color=colour, alpha=0.6,
                    label=f"closed form (fallback={fallback})")
            for t in sel:
                lo, hi = t["violated_max"], t["holds_from"]
                if lo is not None and hi is not None:
                    ax.plot([t["C"], t["C"]], [lo, hi], "-", color=colour, lw=3, alpha=0.5)
                if lo is not None:
                    ax.plot(t["C"], lo, "v", color=colour)
                if hi is not None:
                    ax.plot(t["C"], hi, "^", color=colour)
            ax.plot([], [], "v", color=colour, label=f"largest lambda violated (fallback={fallback})")
            ax.plot([], [], "^", color=colour, label=f"holds from lambda (fallback={fallback})")
        ax.set_yscale("log")
        ax.set_xlabel("C")
        ax.set_title(f"OPT <= {bound} (QK part)")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("lambda")
    fig.tight_layout()
    save(fig, path, dpi=110)


def run_tables(kind: str, rows: list[dict]) -> tuple[Table, Table]:
    """One row per training run, and the means over replicates, for the parameters that vary."""
    metrics = K.get(kind).metrics
    varying = sorted(n for n in (rows[0]["params"] if rows else {})
                     if n != "replicate" and len({repr(r["params"][n]) for r in rows}) > 1)
    runs = Table([*varying, "replicate", "seed", *metrics],
                 [[*(r["params"][n] for n in varying), r["params"]["replicate"], r["seed"],
                   *(_num(r["result"][m]) for m in metrics)] for r in rows],
                 title=f"{kind}: one row per run")
    groups = defaultdict(list)
    for r in rows:
        groups[tuple(repr(r["params"][n]) for n in varying)].append(r)
    means = []
    for _, rs in sorted(groups.items()):
        vals = [[_num(r["result"][m]) for r in rs] for m in metrics]
        means.append([*(rs[0]["params"][n] for n in varying), len(rs),
                      *(float(np.mean([v for v in col if v is not None])) if any(v is not None for v in col)
                        else None for col in vals)])
    return runs, Table([*varying, "runs", *metrics], means, title=f"{kind}: means over replicates")
