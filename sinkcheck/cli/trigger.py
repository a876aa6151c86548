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
import numpy as np
from tqdm import tqdm

from sinkcheck import validate
from sinkcheck.core.attention_torch import pick_device
from sinkcheck.core.tables import Table, dumps, render, write_table


def constructions_table(T: int = 8, p: int = 3, R: float = 1.0, seed: int = 0) -> Table:
    """Measured sup errors and BOS attention of the explicit heads on a seeded batch + the probes."""
    from sinkcheck.construct import trigger_weights as tw
    from sinkcheck.construct.trigger_task import equal_content_batch, sample_batch

    rows = []
    batch = sample_batch(seed, 256, T, p, R, positional=True)
    probes = equal_content_batch(np.eye(p)[0] * R, T, positional=True)
    nontrig = batch.scored & ~batch.is_trigger
    for eps in (0.1, 0.01, 0.001):
        L = tw.sink_logit(T, R, eps)
        W, V = tw.softmax_sink_head(p, T, L, positional=True)
        err = max(tw.sup_error(b, tw.head_forward(b, W, V)[0]) for b in (batch, probes))
        A = tw.head_forward(batch, W, V)[1]
        rows.append(["softmax sink", eps, L, err, float(A[..., 0][nontrig].min())])
    for norm in ("length", "none"):
        W, V = tw.relu_exact_head(p, T, norm)
        O, A = tw.head_forward(batch, W, V, "relu", norm)
        rows.append([f"ReLU ({norm})", 0.0, float("nan"), tw.sup_error(batch, O), float(A[..., 0].max())])
    return Table(["head", "target eps", "sink logit L", "measured sup error", "BOS attention (min / max)"],
                 rows, title=f"Explicit heads, T={T}, p={p}, R={R}, seed {seed}")


def necessity_table(seed: int = 0, n_random: int = 60, T: int = 5, p: int = 2) -> Table:
    """Theorem 1 margins (measured error minus the least error the bound allows) per head family."""
    from sinkcheck.construct import trigger_weights as tw
    from sinkcheck.verify.measure import trigger_necessity as tn

    rng = np.random.default_rng(seed)
    x = np.eye(p)[0]
    fams = {"random (H)": [tn.random_head(rng, p, T) for _ in range(n_random)],
            "random (H_beta)": [tn.random_head(rng, p, T, content_free=True) for _ in range(n_random)],
            "optimised": [tn.optimised_head(seed + k, p, T, 150) for k in range(2)],
            "optimised, BOS penalty": [tn.optimised_head(seed + k, p, T, 150, bos_penalty=2.0) for k in range(2)],
            "tight (delta = 1e-3)": [tw.tight_head(p, T, 1.0, e, 1e-3 * e, True)[:2] for e in (0.05, 0.2)]}
    rows = []
    for name, heads in fams.items():
        pr = [tn.probe(x, T, [h], True) for h in heads]
        rows.append([name, len(pr), min(q.margin for q in pr), min(q.eps for q in pr),
                     max(q.content_mass for q in pr)])
    return Table(["heads", "n", "min margin (>= 0)", "min error", "max content mass"], rows,
                 title=f"Theorem 1 on sampled heads, T={T}, p={p}, ||x||=1, seed {seed}")


@click.command()
@click.option("--seeds", type=int, default=3, show_default=True, help="Training seeds 0..SEEDS-1 per setting.")
@click.option("--steps", type=int, default=300, show_default=True, help="Adam steps per training run.")
@click.option("--heads", type=int, multiple=True, default=(1, 2), show_default=True, help="Head counts (repeatable).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--format", "formats", type=click.Choice(["markdown", "csv", "json", "latex"]), multiple=True,
              default=("markdown", "csv", "json"), show_default=True, help="Table formats (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("sinkcheck-trigger"), show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the batches and sampled heads.")
@click.option("--ablations", is_flag=True,
              help="Also vary loss weighting, init scale, weight decay, lr and positions (one head; minutes).")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def trigger(seeds: int, steps: int, heads: tuple[int, ...], device: str, formats: tuple[str, ...], out: Path,
            seed: int, ablations: bool, no_progress: bool) -> None:
    """Trigger-conditional task: softmax needs a sink, ReLU does not (docs/trigger.md)."""
    import torch

    from sinkcheck.verify.experiments import trigger_train as tr
    from sinkcheck.verify.experiments.trigger_plots import attention_figure, trained_maps

    validate.integer_at_least("seeds", seeds, 1)
    validate.integer_at_least("steps", steps, 1)
    for H in heads:
        validate.integer_at_least("heads", H, 1)
    pick_device(device)
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    n_runs = 3 * len(heads) * seeds
    with tqdm(total=n_runs * steps + 2, desc="trigger", disable=no_progress, unit="step") as bar:
        tables = {"constructions": constructions_table(seed=seed)}
        bar.update(1)
        tables["necessity"] = necessity_table(seed=seed)
        bar.update(1)
        runs = tr.sweep(heads=tuple(heads), seeds=tuple(range(seeds)), progress=bar.update, keep_models=True,
                        steps=steps, device=device)
        if ablations:
            bar.total += len(tr.ABLATIONS) * 3 * seeds * steps
            rows = tr.ablations(seeds=tuple(range(seeds)), steps=steps, progress=bar.update)
            tables["ablations"] = Table(tr.ABLATION_COLUMNS, rows, title="One setting changed at a time (means over seeds)")
    tables["training"] = Table(tr.SUMMARY_COLUMNS, tr.summarise(runs),
                               title=f"Trained single-layer models: means over seeds 0..{seeds - 1}, {steps} steps")
    for name, table in tables.items():
        write_table(table, out / name, formats)
    (out / "training_runs.json").write_text(dumps(tr.records(runs)))
    (out / "training_summary.json").write_text(dumps(tr.summary_json(runs)))
    (out / "figures").mkdir(exist_ok=True)
    maps, t = trained_maps(runs)
    attention_figure(maps, t, out / "figures" / "trigger_attention.png",
                     "Head 0 on one sequence (trigger row outlined), seed 0")
    click.echo(render(tables["training"], "markdown"))
    click.echo(f"wrote {out}/ ({', '.join(formats)} tables, training_summary.json, figures/trigger_attention.png)")
