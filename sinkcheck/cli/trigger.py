"""``sinkcheck trigger``: constructions, necessity probes and training on the trigger task.

Writes to OUT: ``constructions``, ``necessity``, ``training`` (and with ``--ablations``,
``ablations``) tables in each requested format,
``training_runs.json`` (every run with its settings), ``training_summary.json`` (per kind and head
count: mean BOS coefficient at non-trigger positions and task error) and
``figures/trigger_attention.png`` (trained softmax vs. ReLU vs. sigmoid attention maps).
"""

from __future__ import annotations

from pathlib import Path

import click
from tqdm import tqdm

from sinkcheck import validate
from sinkcheck.core.attention_torch import one_thread, pick_device
from sinkcheck.cli.options import FORCE, out_option
from sinkcheck.core.files import OutputDir
from sinkcheck.core.tables import Table, dumps, render, write_table
from sinkcheck.evaluate.trigger_tables import constructions_table, necessity_table


@click.command()
@click.option("--seeds", type=int, default=3, show_default=True, help="Training seeds 0..SEEDS-1 per setting.")
@click.option("--steps", type=int, default=300, show_default=True, help="Adam steps per training run.")
@click.option("--heads", type=int, multiple=True, default=(1, 2), show_default=True, help="Head counts (repeatable).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--format", "formats", type=click.Choice(["markdown", "csv", "json", "latex"]), multiple=True,
              default=("markdown", "csv", "json"), show_default=True, help="Table formats (repeatable).")
@out_option("sinkcheck-trigger", "trigger")
@FORCE
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the batches and sampled heads.")
@click.option("--ablations", is_flag=True,
              help="Also vary loss weighting, init scale, weight decay, lr and positions (one head; minutes).")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def trigger(seeds: int, steps: int, heads: tuple[int, ...], device: str, formats: tuple[str, ...], out: Path,
            force: bool, seed: int, ablations: bool, no_progress: bool) -> None:
    """Trigger-conditional task: softmax needs a sink, ReLU does not (docs/trigger.md)."""
    from sinkcheck.experiments import trigger_train as tr
    from sinkcheck.experiments.trigger_plots import attention_figure, trained_maps

    target = OutputDir(out, "trigger", force=force)
    validate.integer_at_least("--seeds", seeds, 1)
    validate.integer_at_least("--steps", steps, 1)
    validate.integer_at_least("--seed", seed, 0)
    for H in heads:
        validate.integer_at_least("--heads", H, 1)
    tr.check_memory_of_runs(heads, seeds, steps)
    pick_device(device)
    with one_thread():
        tables, runs = _compute(tr, seeds, steps, heads, device, seed, ablations, no_progress)
        with target.staged() as root:
            (root / "figures").mkdir()
            for name, table in tables.items():
                write_table(table, root / name, formats)
            (root / "training_runs.json").write_text(dumps(tr.records(runs)))
            (root / "training_summary.json").write_text(dumps(tr.summary_json(runs)))
            maps, t = trained_maps(runs)
            attention_figure(maps, t, root / "figures" / "trigger_attention.png",
                             "Head 0 on one sequence (trigger row outlined), seed 0")
    click.echo(render(tables["training"], "markdown"))
    click.echo(f"wrote {out}/ ({', '.join(formats)} tables, training_summary.json, figures/trigger_attention.png)")


def _compute(tr, seeds: int, steps: int, heads: tuple[int, ...], device: str, seed: int, ablations: bool,
             no_progress: bool) -> tuple[dict[str, Table], list[dict]]:
    """The tables (constructions, necessity, training and the ablations when asked) and the runs."""
    n_runs = 3 * len(heads) * seeds
    with tqdm(total=n_runs * steps + 2, desc="trigger", disable=no_progress, unit="step") as bar:
        tables = {"constructions": constructions_table(seed=seed)}
        bar.update(1)
        tables["necessity"] = necessity_table(seed=seed)
        bar.update(1)
        runs = tr.train_runs(heads=tuple(heads), seeds=tuple(range(seeds)), progress=bar.update, keep_models=True,
                             steps=steps, device=device)
        if ablations:
            bar.total += len(tr.ABLATIONS) * 3 * seeds * steps
            rows = tr.ablations(seeds=tuple(range(seeds)), steps=steps, progress=bar.update)
            tables["ablations"] = Table(tr.ABLATION_COLUMNS, rows, title="One setting changed at a time (means over seeds)")
    tables["training"] = Table(tr.SUMMARY_COLUMNS, tr.summarise(runs),
                               title=f"Trained single-layer models: means over seeds 0..{seeds - 1}, {steps} steps")
    return tables, runs
