"""Gu et al. (ICLR 2025) Section 4 and Tables 3-5 as one grid of dormant tasks (docs/gu_training.md).

The grid (``sinkcheck/data/gu_tables.yaml``) lists the tables' rows: each a set of parameters of
the sweep's ``dormant`` kind (:mod:`sinkcheck.sweep.kinds`) over common ones, trained once per
seed through the engine (:mod:`sinkcheck.runtime.engine`: serially, on local Dask workers or on a
cluster; rows with the same parameters share their runs). :func:`summary` pools the seeds per row
(mean, min, max of Sink_1, of the slot's Sink* and of the loss); :func:`runs_json` keeps every run
(its curve every ``eval_every`` steps and Section 3.1's first-token geometry). The shipped
measurement (``sinkcheck/data/gu_tables.csv`` and ``gu_tables_runs.json``) is what
``sinkcheck gu-tables`` writes; the report re-runs part of it and compares exactly (:func:`same_prefix`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from sinkcheck.core.tables import Table
from sinkcheck.errors import InvalidInputError
from sinkcheck.runtime import engine
from sinkcheck.runtime.tasks import Task, plain
from sinkcheck.sweep import kinds as K

GRID = "gu_tables.yaml"
SUMMARY = "gu_tables.csv"
RUNS = "gu_tables_runs.json"
"""The package-data files (the grid, the shipped summary and the shipped runs)."""

CURVE_KEYS = ("sink", "sink_bias", "loss")
"""The numbers of a curve point that a re-run must reproduce exactly."""


@dataclass(frozen=True)
class Row:
    """One row of a table: its ``id``, ``table``, ``label``, the paper's numbers (``sink1``,
    ``sink_star`` in percent, ``loss``) and the full parameters of its dormant task."""

    id: str
    table: str
    label: str
    paper: dict
    params: dict


def _data(name: str) -> str:
    return resources.files("sinkcheck").joinpath("data", name).read_text()


def load(text: str | None = None) -> tuple[tuple[int, ...], tuple[Row, ...]]:
    """The seeds and rows of the grid (the shipped one unless ``text``), every parameter checked by
    the dormant kind's rules (errors name ``rows[i].params.NAME``)."""
    data = yaml.safe_load(_data(GRID) if text is None else text)
    kind = K.get("dormant")
    common = {k: kind.check(k, v, "common") for k, v in data.get("common", {}).items()}
    rows, ids = [], set()
    for i, r in enumerate(data["rows"]):
        where = f"rows[{i}].params"
        own = {k: kind.check(k, v, where) for k, v in r.get("params", {}).items()}
        params = {**K.DORMANT_DEFAULTS, **common, **own}
        kind.check_point(params, where)
        if r["id"] in ids:
            raise InvalidInputError(f"rows[{i}].id: {r['id']!r} appears twice in the grid")
        ids.add(r["id"])
        rows.append(Row(r["id"], r["table"], r["label"], dict(r.get("paper", {})), params))
    return tuple(int(s) for s in data["seeds"]), tuple(rows)


def with_steps(rows: tuple[Row, ...], steps: int) -> tuple[Row, ...]:
    """The rows trained for ``steps`` steps instead (a prefix of their runs: the learning rate
    after the warm-up does not depend on the length, so step s of both runs is the same model)."""
    return tuple(Row(r.id, r.table, r.label, r.paper, {**r.params, "steps": steps}) for r in rows)


def tasks(rows: tuple[Row, ...], seeds: tuple[int, ...]) -> list[Task]:
    """The distinct dormant tasks of ``rows`` x ``seeds`` (the seed is the run's own, not derived)."""
    out: dict[str, Task] = {}
    for r in rows:
        for s in seeds:
            t = Task("dormant", r.params, s)
            out.setdefault(t.key, t)
    return list(out.values())


def _work(kind: str, params: dict, seed: int, _device: str, device: str = "cpu") -> dict:
    return plain(K.run_task(kind, params, seed, device))


def run(rows: tuple[Row, ...], seeds: tuple[int, ...], workers: int | None = 0, device: str = "cpu",
        scheduler: str | None = None, progress: bool = False) -> dict[tuple[str, int], dict]:
    """Train every task of the grid through the engine; each run's result by (row id, seed). A run
    that fails stops the grid with its own exception (:meth:`sinkcheck.runtime.outcome.Outcome.value`)."""
    todo = tasks(rows, seeds)
    done: dict[str, dict] = {}

    def collect(task: Task, outcome) -> None:
        done[task.key] = outcome.value()

    with engine.session(workers, scheduler) as client:
        engine.run(todo, functools.partial(_work, device=device), collect, client=client, progress=progress,
                   desc="gu-tables")
    return {(r.id, s): done[Task("dormant", r.params, s).key] for r in rows for s in seeds}


SUMMARY_COLUMNS = ("row", "table", "label", "seeds", "steps", "mean_sink1", "min_sink1", "max_sink1",
                   "mean_sink_star", "min_sink_star", "max_sink_star", "mean_loss", "paper_sink1", "paper_sink_star",
                   "paper_loss")


def _pct(v) -> float | None:
    return None if v is None else round(100 * float(v), 4)


def summary(rows: tuple[Row, ...], seeds: tuple[int, ...], results: dict) -> Table:
    """Per row, over the seeds: Sink_1 and the slot's Sink* in percent (mean, min, max; Sink* empty
    without a slot) and the mean held-out loss, beside the paper's numbers."""
    out = []
    for r in rows:
        res = [results[(r.id, s)] for s in seeds]
        s1 = [x["sink"] for x in res]
        sb = [x["sink_bias"] for x in res if x["sink_bias"] is not None]
        out.append([r.id, r.table, r.label, len(seeds), r.params["steps"], _pct(np.mean(s1)), _pct(min(s1)),
                    _pct(max(s1)), *((_pct(np.mean(sb)), _pct(min(sb)), _pct(max(sb))) if sb else (None,) * 3),
                    round(float(np.mean([x["loss"] for x in res])), 5), r.paper.get("sink1"),
                    r.paper.get("sink_star"), r.paper.get("loss")])
    return Table(list(SUMMARY_COLUMNS), out, title="Gu et al. Section 4 and Tables 3-5 on bigram-backcopy")


def runs_json(rows: tuple[Row, ...], seeds: tuple[int, ...], results: dict) -> dict:
    """Every run by row id and seed: Sink_1, Sink*, the slot's mean raw weight (``bias_mass``), the
    sink on the first token after BOS (sink-token rows), loss, the per-head first-token importance,
    the curve and Section 3.1's geometry (exact floats; plain JSON)."""
    keep = ("sink", "sink_bias", "bias_mass", "sink_first_content", "loss", "bos_raw", "alpha0", "curve", "key_bias")
    return {"seeds": list(seeds), "params": {r.id: r.params for r in rows},
            "runs": {r.id: {str(s): {k: results[(r.id, s)][k] for k in keep} for s in seeds} for r in rows}}


def shipped() -> tuple[dict[str, dict], dict]:
    """The shipped summary rows by row id (strings, as in the CSV) and the shipped runs."""
    import csv
    import io

    rows = {r["row"]: r for r in csv.DictReader(io.StringIO(_data(SUMMARY)))}
    return rows, json.loads(_data(RUNS))


def same_prefix(result: dict, shipped_run: dict) -> list[str]:
    """The differences between a re-run of ``steps`` steps and the shipped run's curve point at that
    step (empty: byte-identical numbers)."""
    steps = result["curve"][-1]["step"]
    point = next((p for p in shipped_run["curve"] if p["step"] == steps), None)
    if point is None:
        return [f"the shipped curve has no point at step {steps}"]
    mine = result["curve"][-1]
    return [f"{k} at step {steps}: re-run {mine[k]!r}, shipped {point[k]!r}" for k in CURVE_KEYS if mine[k] != point[k]]


def write(out: Path, rows: tuple[Row, ...], seeds: tuple[int, ...], results: dict) -> Table:
    """Write the summary (CSV) and the runs (JSON) under ``out``; the summary."""
    from sinkcheck.core.tables import render

    table = summary(rows, seeds, results)
    (out / SUMMARY).write_text(render(table, "csv"))
    (out / RUNS).write_text(json.dumps(plain(runs_json(rows, seeds, results)), sort_keys=True, separators=(",", ":"))
                            + "\n")
    return table


def plot(table: Table, runs: dict, path: Path) -> None:
    """Left: Sink_1 (and the slot's Sink*) per row of Tables 3-5, ours (mean over seeds, min-max bar)
    beside the paper's; right: Sink_1 against the step for each learning rate row (mean over seeds)."""
    from sinkcheck.core.figures import pyplot, save

    plt = pyplot()
    col = {c: i for i, c in enumerate(table.columns)}
    rows = [r for r in table.rows if r[col["table"]].startswith("Table")]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [2.2, 1]})
    x = np.arange(len(rows))
    for off, name, paper, color in ((-0.3, "sink1", "paper_sink1", "C0"), (0.1, "sink_star", "paper_sink_star", "C1")):
        mean = np.array([np.nan if r[col[f"mean_{name}"]] is None else r[col[f"mean_{name}"]] for r in rows], float)
        lo = np.array([np.nan if r[col[f"min_{name}"]] is None else r[col[f"min_{name}"]] for r in rows], float)
        hi = np.array([np.nan if r[col[f"max_{name}"]] is None else r[col[f"max_{name}"]] for r in rows], float)
        label = "Sink_1" if name == "sink1" else "Sink* (slot)"
        ax.bar(x + off, mean, 0.2, color=color, label=f"{label}, ours", yerr=[mean - lo, hi - mean], capsize=2)
        pap = np.array([np.nan if r[col[paper]] is None else r[col[paper]] for r in rows], float)
        ax.bar(x + off + 0.2, pap, 0.2, color=color, alpha=0.35, hatch="//", label=f"{label}, paper")
    ax.set_xticks(x, [f"{r[col['table']][-1]}: {r[col['label']]}" for r in rows], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("%")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Tables 3-5: bigram-backcopy (ours) vs 60M LMs (paper)", fontsize=9)
    for rid, label in (("sec4.lr_1e-3", "1e-3"), ("sec4.lr_3e-3", "3e-3"), ("sec4.lr_1e-2", "1e-2"),
                       ("sec4.lr_1e-3_long", "1e-3, 1800 steps")):
        if rid not in runs["runs"]:
            continue
        curves = [run["curve"] for run in runs["runs"][rid].values()]
        steps = [p["step"] for p in curves[0]]
        bx.plot(steps, [100 * np.mean([c[i]["sink"] for c in curves]) for i in range(len(steps))], label=label,
                linestyle="--" if rid.endswith("_long") else "-")
    bx.set_xlabel("step")
    bx.set_ylabel("Sink_1 (%)")
    bx.set_title("Section 4: Sink_1 over training, per learning rate", fontsize=9)
    if bx.lines:
        bx.legend(fontsize=7, title="learning rate", title_fontsize=7)
    fig.tight_layout()
    save(fig, path, dpi=110)
