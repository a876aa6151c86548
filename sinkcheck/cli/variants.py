"""``sinkcheck variants``: does my attention need a sink?  Every attention operation of the registry
(:mod:`sinkcheck.variants`), and a user's own, in one table (docs/variants.md).

A row per operation and head count: whether it normalises, what the theory says (can a head be
exactly off without a sink token; is the trigger task solvable without one: :mod:`sinkcheck.theory.variants`,
"not stated" for a user's operation), a numerical probe of its weights at very negative scores
(:func:`sinkcheck.variants.probe.probe`, a measurement, not theory), and per task what trained models
do at the positions where the head should be off: mass on the first token, on the operation's
slot and nowhere, Gu et al.'s Sink_1^0.3 (proxy and raw weights) and the slot's Sink*, the loss
(each a mean and a spread max - min over seeds, 3 significant digits), the fraction of seeds that
solved the task and the steps (the grid: :func:`sinkcheck.sweep.variants.run_grid`); the title and
a legend (:data:`LEGEND`) come with the table in every format.
Writes ``variants_table.md``, ``.csv``, ``.tex``, ``.json`` (one document), ``variants_runs.json`` (every
run) and ``variants.csv`` (:func:`sinkcheck.sweep.variants.write`: with the defaults, the files shipped in
``sinkcheck/data/``) and ``figures/variants_off_mass.png`` into ``--out``, and prints the table in ``--format``.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import click
import numpy as np

from sinkcheck.cli.empirical import DEVICE, NO_PROGRESS, check_device, output_dir, parse_list, parse_seeds
from sinkcheck.cli.options import FORCE, out_option
from sinkcheck.core.files import OutputDir
from sinkcheck.core.tables import FORMATS, SUFFIX, Table, fmt_number, render
from sinkcheck.errors import InvalidInputError

TASKS = ("trigger", "dormant")
"""The grid's tasks: Ran-Milo's trigger task and bigram-backcopy (the dormant task: Guo et al.'s
(2024) task, ours an induction-style variant, :mod:`sinkcheck.experiments.dormant_train`)."""

MAX_HEADS = 8
"""The most heads one ``--heads`` entry may ask for (a small model on CPU)."""

NOT_STATED = "not stated"
"""The theory columns of an operation the theory does not cover (a user's)."""

QUANTITIES = {"off_first": "off_first", "off_slot": "off_slot", "off_nowhere": "off nowhere",
              "sink": "Sink_1^0.3 (proxy)", "sink_raw": "Sink_1 raw", "sink_slot": "slot Sink*", "loss": "loss"}
"""The per-run numbers the table gives per task (key -> header), each as a mean and a spread (max - min)
over seeds."""

DIGITS = 3
"""Significant digits of the table's numbers (the runs file keeps every bit)."""

LEGEND = (
    "Off positions: the queries where a head should be off (trigger task: the scored non-trigger positions; "
    "dormant task: every non-trigger query after BOS), averaged over layers, heads and queries; per task, each "
    "number is the mean over seeds, 'spread (max-min)' its max - min over seeds.",
    "off_first / off_slot / off nowhere: the off positions' raw mass on the first token, on the operation's "
    "slot (the dropped column of softmax1, a sink logit or a key bias, 1 - the row sum; the sink token) and "
    "nowhere (1 - first - slot - content, at least 0: only an operation that does not normalise has any).",
    "Sink_1^0.3 (proxy): Gu et al.'s Sink_1 with eps 0.3, the fraction of (sequence, layer, head) whose mean "
    "weight on the first token exceeds 0.3, on proxy weights (each row divided by its sum over the real keys "
    "and the slot); Sink_1 raw: the same on the raw weights clipped to [0, 1]; slot Sink*: the same for the slot.",
    "normalises: every row sums to 1 over the real keys and the operation's dropped column, if any; the probe "
    "reads the real keys only: 'normalised' (they sum to 1), 'positive' (a weight above 0, the rows summing to "
    "less than 1: the rest is the dropped column's, or nowhere), 'exact zero', 'negative'.",
    "solved (fraction of seeds): the fraction of seeds whose run solved the task (trigger: relative error "
    "below 0.1; dormant: copy accuracy at least 0.9; our rule); steps: training steps of every run.",
)
"""The table's legend: what each column means."""

PROBE_COLUMN = "probe at scores -30 (numerical, not theory)"
"""The header of the probe's column (:mod:`sinkcheck.variants.probe`)."""


def load_operation(spec: str, normalises: bool | None):
    """Register the user's operation named by ``--operation MODULE:ATTR`` or ``path.py:ATTR``: a torch
    function ``(S, mask) -> weights`` or an ``nn.Module`` (a class is instantiated without
    arguments), called ATTR in the table; ``normalises`` (``--normalises/--no-normalises``) is required."""
    from sinkcheck.variants import OPERATIONS, register, unregister
    from sinkcheck.variants.probe import probe

    where, sep, attr = spec.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise InvalidInputError(f"--operation: must be MODULE:ATTR or path.py:ATTR, ATTR a Python name (got {spec!r})")
    if attr in OPERATIONS:
        raise InvalidInputError(f"--operation: {attr!r} is already an operation's name; name yours otherwise "
                                f"(got {spec!r})")
    if normalises is None:
        raise InvalidInputError(f"--operation: needs --normalises or --no-normalises (got {spec!r} alone)")
    if where.endswith(".py") and not Path(where).is_file():
        raise InvalidInputError(f"--operation: the file {where!r} does not exist (got {spec!r})")
    keep, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ beside the user's files
    try:
        if where.endswith(".py"):
            module = types.ModuleType(f"sinkcheck_user_{attr}")
            module.__file__ = where
            exec(compile(Path(where).read_text(), where, "exec"), module.__dict__)  # noqa: S102 -- the user's code
        else:
            module = importlib.import_module(where)
    except Exception as exc:  # noqa: BLE001 -- the user's code: one line saying what it raised
        raise InvalidInputError(f"--operation: importing {where!r} raised {type(exc).__name__}: "
                                f"{' '.join(str(exc).split())} (got {spec!r})") from None
    finally:
        sys.dont_write_bytecode = keep
    if not hasattr(module, attr):
        raise InvalidInputError(f"--operation: {where!r} has no attribute {attr!r} (got {spec!r})")
    fn = getattr(module, attr)
    if isinstance(fn, type):
        import torch

        if not issubclass(fn, torch.nn.Module):
            raise InvalidInputError(f"--operation: {attr!r} is a class but not a torch.nn.Module (got {spec!r})")
        fn = fn()
    if not callable(fn):
        raise InvalidInputError(f"--operation: {attr!r} must be a function (S, mask) -> weights or a torch module "
                                f"(got a {type(fn).__name__})")
    op = register(attr, fn, normalises=normalises, summary=f"user operation {spec}", source=f"--operation {spec}")
    try:
        probe(op)  # it must give weights of the scores' shape before anything is trained
    except InvalidInputError as exc:
        unregister(attr)
        raise InvalidInputError(f"--{exc}") from None
    return op


def nowhere(run: dict) -> float:
    """The off positions' mass that lands nowhere in one run: 1 minus the first token's, the slot's
    and the content's, at least 0 (an operation that does not normalise can put less than 1)."""
    return max(0.0, 1.0 - sum(run.get(m) or 0.0 for m in ("off_first", "off_slot", "off_content")))


def aggregate(runs: list[dict]) -> dict[tuple[str, str, int], dict]:
    """:func:`sinkcheck.sweep.variants.summarise` by (attention, task, heads), with the mass that
    lands nowhere (:func:`nowhere`, pooled as the others) and each quantity's spread (max - min over
    seeds)."""
    from sinkcheck.sweep.variants import summarise

    lost: dict[tuple, list[float]] = {}
    for r in runs:
        lost.setdefault((r["attention"], r["task"], int(r["heads"])), []).append(nowhere(r))
    out = {}
    for row in summarise(runs):
        key = (row["attention"], row["task"], int(row["heads"]))
        row.update(mean_off_nowhere=float(np.mean(lost[key])), min_off_nowhere=min(lost[key]),
                   max_off_nowhere=max(lost[key]))
        for m in (*QUANTITIES, "off_content"):
            row[f"spread_{m}"] = None if row[f"mean_{m}"] is None else row[f"max_{m}"] - row[f"min_{m}"]
        out[key] = row
    return out


def theory_columns(name: str) -> tuple[str, str]:
    """(exact zero possible, trigger task solvable without a sink) from the theory, or "not stated"."""
    from sinkcheck.theory import variants as TV

    return TV.OFF_SWITCH.get(name, NOT_STATED), TV.TRIGGER_WITHOUT_SINK.get(name, NOT_STATED)


def columns(tasks: tuple[str, ...]) -> list[str]:
    """The table's columns for ``tasks``."""
    per_task = []
    for t in tasks:
        for q in QUANTITIES.values():
            per_task += [f"{t} {q}", f"{t} {q} spread (max-min)"]
        per_task += [f"{t} solved (fraction of seeds)", f"{t} steps"]
    return ["operation", "heads", "summary", "normalises", "exact zero possible (theory)",
            "trigger without sink (theory)", PROBE_COLUMN, *per_task]


def table(names: list[str], runs: list[dict], tasks: tuple[str, ...], heads: tuple[int, ...]) -> Table:
    """The table of ``names`` (registered operations) from the grid's ``runs``: a row per operation
    and head count, a cell None where a run is missing or the operation has no slot."""
    from sinkcheck.variants import get
    from sinkcheck.variants.probe import probe

    agg = aggregate(runs)
    rows = []
    for name in names:
        op = get(name)
        fixed = [name, None, op.summary, op.normalises, *theory_columns(name), probe(op)]
        for h in heads:
            row = list(fixed)
            row[1] = h
            for t in tasks:
                a = agg.get((name, t, h), {})
                row += [a.get(f"{k}_{q}") for q in QUANTITIES for k in ("mean", "spread")]
                row += [a.get("solved"), a.get("steps")]
            rows.append([fmt_number(v, DIGITS) for v in row])
    seeds = sorted({r["seed"] for r in runs})
    return Table(columns(tasks), rows, title=f"Does my attention need a sink? Tasks {', '.join(tasks)}; heads "
                                               f"{', '.join(map(str, heads))}; seeds {', '.join(map(str, seeds))}",
                 legend=LEGEND)


def plot(names: list[str], runs: list[dict], tasks: tuple[str, ...], path: Path) -> None:
    """Where the off positions' attention mass goes, per operation (mean over seeds and head counts):
    first token, slot (the dropped column of softmax1, a sink logit or a key bias; the sink token),
    content, nowhere (1 minus the rest: an
    operation that does not normalise can put less than 1; a total above 1 is clipped and written
    above its bar), stacked, one panel per task."""
    from sinkcheck.core.figures import pyplot, save

    plt = pyplot()
    agg = aggregate(runs)
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 + 0.45 * len(names) * len(tasks), 4), squeeze=False)
    x = np.arange(len(names))
    for ax, t in zip(axes[0], tasks):
        bottom = np.zeros(len(names))
        for part, color in (("off_first", "C3"), ("off_slot", "C1"), ("off_content", "C0"), ("off_nowhere", "0.8")):
            vals = np.array([np.mean([a[f"mean_{part}"] or 0.0 for (n, tt, _), a in agg.items() if n == name and tt == t]
                                     or [0.0]) for name in names])
            ax.bar(x, vals, 0.7, bottom=bottom, color=color, label=part.removeprefix("off_"))
            bottom += vals
        for i in np.flatnonzero(bottom > 1.05):  # an operation that does not normalise can put more than 1
            ax.text(x[i], 1.06, f"{bottom[i]:.1f}", ha="center", va="bottom", fontsize=7, bbox={"fc": "white", "lw": 0})
        ax.set_ylim(0, 1.15)
        ax.set_xticks(x, names, rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{t}: mass at the off positions", fontsize=9)
        ax.set_ylabel("attention mass")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    save(fig, path)


def _chosen(only: tuple[str, ...], user) -> list[str]:
    from sinkcheck import validate
    from sinkcheck.variants import OPERATIONS

    builtin = tuple(n for n, op in OPERATIONS.items() if op.builtin)
    names = [validate.choice("--only", n, builtin + ((user.name,) if user else ())) for n in only] or list(builtin)
    if user is not None and user.name not in names:
        names.append(user.name)
    return list(dict.fromkeys(names))


@click.command("variants")
@click.option("--only", multiple=True, help="Only this operation (repeatable; default: every built-in one).")
@click.option("--tasks", default=",".join(TASKS), show_default=True, help="Tasks: trigger, dormant.")
@click.option("--heads", default="1,2", show_default=True, help="Head counts of the trained models.")
@click.option("--seeds", default="0,1,2", show_default=True, help="Seeds, e.g. 0,1,2 or 0-4.")
@click.option("--steps", type=click.IntRange(1, 100_000), default=None,
              help="Training steps of every run (default: the grid's per task).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes training runs in parallel.")
@DEVICE
@click.option("--operation", default=None,
              help="Your operation, MODULE:ATTR or path.py:ATTR: a torch function (S, mask) -> weights or an "
                   "nn.Module; it gets the same row (its theory columns say 'not stated').")
@click.option("--normalises/--no-normalises", default=None, help="Whether --operation's rows sum to 1 (required with it).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True,
              help="What is printed (every format is written to --out).")
@out_option("sinkcheck-variants", "variants")
@FORCE
@NO_PROGRESS
def variants(only, tasks, heads, seeds, steps, workers, device, operation, normalises, fmt, out, force,
             no_progress) -> None:
    """Does my attention need a sink? Every attention operation: theory (exact zero, trigger task without a sink),
    a numerical probe, and trained sink mass, Sink_1 and loss on the trigger and bigram-backcopy tasks."""
    if normalises is not None and operation is None:
        raise InvalidInputError("--normalises: applies to --operation only (got it without --operation)")
    target = OutputDir(out, "variants", force=force)
    check_device(device)
    chosen_tasks = tuple(dict.fromkeys(parse_list("--tasks", tasks, str, lambda n, v: _choice(n, v, TASKS))))
    chosen_heads = tuple(dict.fromkeys(parse_list("--heads", heads, int, _heads)))
    chosen_seeds = parse_seeds(seeds)
    user = load_operation(operation, normalises) if operation is not None else None
    try:
        names = _chosen(only, user)
        from sinkcheck.sweep import variants as SV

        runs = SV.run_grid(ops=names, tasks=chosen_tasks, heads=chosen_heads, seeds=chosen_seeds, steps=steps,
                        workers=workers, device=device, progress=not no_progress)
        result = table(names, runs, chosen_tasks, chosen_heads)
        with output_dir(target) as root:
            for f in FORMATS:
                (root / f"variants_table.{SUFFIX[f]}").write_text(render(result, f))
            SV.write(root, runs)  # the runs and their summary: with the defaults, the files shipped in sinkcheck/data
            plot(names, runs, chosen_tasks, root / "figures" / "variants_off_mass.png")
    finally:
        if user is not None:
            from sinkcheck.variants import unregister

            unregister(user.name)
    click.echo(render(result, fmt), nl=False)
    click.echo(f"wrote {out}/variants_table.md, .csv, .tex, .json, variants_runs.json, variants.csv and figures/",
               err=True)


def _choice(name: str, value: str, options: tuple[str, ...]) -> str:
    from sinkcheck import validate

    return validate.choice(name, value.strip(), options)


def _heads(name: str, value: int) -> int:
    if not 1 <= value <= MAX_HEADS:
        raise InvalidInputError(f"{name}: must be integers in 1..{MAX_HEADS} (got {value})")
    return value
