"""``sinkcheck train dormant|lm|sinkdiag`` and ``sinkcheck pretrained``: the empirical side
(docs/empirical.md).  Each writes tables (Markdown, CSV, JSON), a ``summary.json`` and
figures into ``--out``."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import click

from sinkcheck import validate
from sinkcheck.core.attention import KINDS
from sinkcheck.construct.gu_inputs import KINDS as GU_INPUTS
from sinkcheck.cli.options import FORCE, out_option
from sinkcheck.core.files import OutputDir
from sinkcheck.errors import InvalidInputError
from sinkcheck.core.tables import Table, dumps, render
from sinkcheck.core.tables import write_table as write_table_files

PROFILE = click.option("--profile", type=click.Choice(["quick", "full"]), default="quick", show_default=True,
                       help="quick: minutes on 2 CPU cores; full: a GPU or hours of CPU.")
DEVICE = click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
NO_PROGRESS = click.option("--no-progress", is_flag=True, help="Hide progress bars.")


MAX_SEQUENCES = 100_000
"""The most sequences one ``sinkcheck pretrained --sequences`` may ask for."""

MAX_SEEDS = 1000
"""The most seeds one ``--seeds`` may list (each seed is a whole grid of training runs)."""


def parse_seeds(text: str | None) -> tuple[int, ...] | None:
    """"0,1,2" or "0-4" -> a tuple of at most MAX_SEEDS seeds >= 0 (None -> the profile's seeds),
    counted before any tuple is made."""
    if text is None:
        return None
    try:
        if re.fullmatch(r"\s*\d+\s*-\s*\d+\s*", text):  # a range lo-hi
            lo, hi = (int(v) for v in text.split("-"))
            count, seeds = hi - lo + 1, None
        else:
            seeds = tuple(int(v) for v in text.split(","))
            lo, count = min(seeds, default=0), len(seeds)
    except ValueError:
        raise InvalidInputError(f"--seeds: must be a list like 0,1,2 or a range like 0-4 of seeds >= 0 (got {text!r})") from None
    if count < 1 or lo < 0:
        raise InvalidInputError(f"--seeds: must be a non-empty list of seeds >= 0 (got {text!r})")
    if count > MAX_SEEDS:
        raise InvalidInputError(f"--seeds: must list at most {MAX_SEEDS} seeds (got {count})")
    return tuple(range(lo, lo + count)) if seeds is None else seeds


def parse_list(option: str, text: str, convert, rule) -> tuple:
    """A comma-separated option value, each item converted and checked by ``rule(name, value)``."""
    try:
        items = tuple(convert(v) for v in text.split(","))
    except ValueError:
        raise InvalidInputError(f"{option}: must be a comma-separated list (got {text!r})") from None
    return tuple(rule(option, v) for v in items)


@contextlib.contextmanager
def output_dir(out: OutputDir):
    """The staged output (with ``figures/``), moved into ``out`` when the block succeeds."""
    with out.staged() as root:
        (root / "figures").mkdir()
        yield root


def write_table(out: Path, name: str, table: Table) -> None:
    write_table_files(table, out / name)


def check_device(device: str) -> None:
    from sinkcheck.core.attention_torch import pick_device

    pick_device(device)


@click.group()
def train() -> None:
    """Train the small transformer: sink emergence (dormant), a byte-level LM (lm), sink vs diagonal."""


@train.command()
@PROFILE
@click.option("--seeds", default=None, help="Seeds, e.g. 0,1,2 or 0-9 (default: the profile's).")
@click.option("--steps", type=click.IntRange(1), default=None, help="Override the profile's training steps.")
@click.option("--kinds", default="softmax,sigmoid,relu", show_default=True, help="Attention kinds.")
@click.option("--tasks", default="bb,iid", show_default=True, help="Tasks: bb (bigram-backcopy), iid.")
@click.option("--weight-decays", default=None, help="Weight-decay sweep, e.g. 0,0.1,1 (default: the profile's).")
@click.option("--mlp", is_flag=True, help="Give every block an MLP (default: attention only).")
@DEVICE
@out_option("sinkcheck-dormant", "train dormant")
@FORCE
@NO_PROGRESS
def dormant(profile, seeds, steps, kinds, tasks, weight_decays, mlp, device, out, force, no_progress) -> None:
    """Sink emergence on switch-off tasks: Sink_1^0.3 per run, per kind, per weight decay."""
    from sinkcheck.experiments import dormant_report as rep
    from sinkcheck.experiments.dormant_train import TASKS, experiment

    target = OutputDir(out, "train dormant", force=force)
    check_device(device)
    wds = None if weight_decays is None else parse_list("--weight-decays", weight_decays, float, validate.nonnegative)
    choose = lambda options: lambda name, v: validate.choice(name, v, options)  # noqa: E731
    results = experiment(profile, seeds=parse_seeds(seeds), steps=steps,
                         kinds=parse_list("--kinds", kinds, str, choose(KINDS)),
                         tasks=parse_list("--tasks", tasks, str, choose(TASKS)), weight_decays=wds, mlp=mlp,
                         device=device, progress=not no_progress)
    summary = rep.summary_table(results)
    with output_dir(target) as root:
        write_table(root, "runs", rep.runs_table(results))
        write_table(root, "summary", summary)
        (root / "summary.json").write_text(dumps(rep.summary_json(results)))
        rep.plot_attention(results, root / "figures" / "attention_maps.png")
        rep.plot_weight_decay(results, root / "figures" / "sink_vs_weight_decay.png")
    click.echo(render(summary, "markdown"), nl=False)
    click.echo(f"wrote {out}/summary.md, runs.md, summary.json and figures/")


@train.command()
@PROFILE
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--steps", type=click.IntRange(1), default=None, help="Override the profile's training steps.")
@click.option("--kind", type=click.Choice(KINDS), default="softmax", show_default=True)
@DEVICE
@out_option("sinkcheck-lm", "train lm")
@FORCE
@NO_PROGRESS
def lm(profile, seed, steps, kind, device, out, force, no_progress) -> None:
    """Byte-level LM on the Python standard library's source; Sink_1 per layer over training."""
    from sinkcheck.experiments import lm_train

    target = OutputDir(out, "train lm", force=force)
    validate.integer_at_least("--seed", seed, 0)
    check_device(device)
    res = lm_train.run(profile, seed=seed, steps=steps, kind=kind, device=device, progress=not no_progress)
    table = lm_train.table(res)
    with output_dir(target) as root:
        write_table(root, "lm", table)
        (root / "summary.json").write_text(dumps(lm_train.summary_json(res)))
        lm_train.plot(res, root / "figures" / "lm_sink_per_layer.png")
    click.echo(render(table, "markdown"), nl=False)
    click.echo(f"wrote {out}/lm.md, summary.json and figures/")


@train.command()
@PROFILE
@click.option("--seeds", default=None, help="Seeds, e.g. 0,1 (default: the profile's).")
@click.option("--steps", type=click.IntRange(1), default=None, help="Override the profile's training steps.")
@click.option("--dims", default=None, help="Dimensions d, e.g. 8,16,32 (default: the profile's).")
@out_option("sinkcheck-sinkdiag", "train sinkdiag")
@FORCE
@NO_PROGRESS
def sinkdiag(profile, seeds, steps, dims, out, force, no_progress) -> None:
    """Sink vs diagonal as a training problem: the pattern chosen and its cost next to L, OPT, U."""
    from sinkcheck.experiments import sinkdiag_train as sd

    target = OutputDir(out, "train sinkdiag", force=force)
    dims_t = None if dims is None else parse_list("--dims", dims, int, sd.check_dim)
    rows = sd.experiment(profile, seeds=parse_seeds(seeds), steps=steps, dims=dims_t, progress=not no_progress)
    table = Table(sd.COLUMNS, [[r[c] for c in sd.COLUMNS] for r in rows],
                  title="Trained head (weight decay) vs L, OPT, U of the sink and diagonal patterns (QK cost)")
    with output_dir(target) as root:
        write_table(root, "sinkdiag", table)
        (root / "summary.json").write_text(dumps({"rows": rows, "instance": sd.INSTANCE}))
        sd.plot(rows, root / "figures" / "cost_vs_d.png")
    click.echo(render(table, "markdown"), nl=False)
    click.echo(f"wrote {out}/sinkdiag.md, summary.json and figures/")


@click.command()
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="A local Hugging Face checkpoint directory, decoder or encoder (offline; default: the "
                   "shipped all-MiniLM-L6-v2).")
@click.option("--inputs", type=click.Choice(GU_INPUTS), default="natural", show_default=True,
              help="Gu et al.'s Table 1 inputs: the sentences, T random tokens, or one random token repeated T times "
                   "(random and repeated: the tokenizer's special tokens around them; Sink_first only).")
@click.option("--length", type=int, default=None, help="random/repeated: T, the body tokens per sequence (default 64).")
@click.option("--sequences", type=int, default=None, help="random/repeated: how many sequences (default 100).")
@click.option("--seed", type=int, default=None, help="random/repeated: sequence n draws from (seed, n) (default 0).")
@click.option("--special-tokens/--no-special-tokens", default=None,
              help="random/repeated: wrap each body in the tokenizer's special tokens (default) or not.")
@click.option("--sentences", "sentences_path", type=click.Path(path_type=Path), default=None,
              help="A UTF-8 text file, one sentence per line (default: the 70 shipped English sentences).")
@click.option("--limit", "n_sentences", type=click.IntRange(1), default=None,
              help="Use only the first N sentences (default: all).")
@click.option("--eps", type=click.FloatRange(0, 1), default=0.3, show_default=True, help="Gu et al.'s threshold.")
@click.option("--smoothing/--no-smoothing", default=True, show_default=True,
              help="Also compute the per-head smoothing conditions (section 4; natural inputs).")
@DEVICE
@out_option("sinkcheck-pretrained", "pretrained")
@FORCE
@NO_PROGRESS
def pretrained(model_path, inputs, length, sequences, seed, special_tokens, sentences_path, n_sentences, eps,
               smoothing, device, out, force, no_progress) -> None:
    """Sinks on every position (Gu et al.'s metric), first-token alignment, value norms and smoothing
    conditions in a pretrained model on disk (default all-MiniLM-L6-v2), offline; with ``--inputs
    random|repeated``, Sink_first on Table 1's random or repeated tokens."""
    from sinkcheck.experiments import pretrained_report as rep

    target = OutputDir(out, "pretrained", force=force)
    validate.in_interval("--eps", eps, 0.0, 1.0)  # click's range lets nan through
    check_protocol(inputs, length, sequences, seed, special_tokens, sentences_path, n_sentences)
    check_device(device)
    if inputs != "natural":
        return pretrained_inputs(rep, target, out, model_path, inputs, length, sequences, seed, special_tokens, eps,
                                 device, no_progress)
    result = rep.measure(n_sentences=n_sentences, smoothing=smoothing, device=device, progress=not no_progress,
                         eps=eps, model_path=model_path, sentences_path=sentences_path)
    with output_dir(target) as root:
        for name, table in rep.tables(result).items():
            write_table(root, name, table)
        (root / "summary.json").write_text(dumps(rep.summary_json(result)))
        rep.plot(result, root / "figures")
    click.echo(f"model: {result['model']}; {result['n_sentences']} sentences; "
               f"{'causal' if result['causal'] else 'bidirectional'} attention; {result['first_token']}")
    click.echo(f"sink_*: {rep.metric_name(result)}")
    click.echo(render(rep.tables(result)["sink_per_layer"], "markdown"), nl=False)
    if result["skipped"]:
        click.echo(f"skipped: {result['skipped']}")
    click.echo(f"wrote {out}/*.md, summary.json and figures/")


def check_protocol(inputs, length, sequences, seed, special_tokens, sentences_path, n_sentences) -> None:
    """Each option of ``sinkcheck pretrained`` belongs to natural or to random/repeated inputs."""
    if inputs == "natural":
        for name, value in (("--length", length), ("--sequences", sequences), ("--seed", seed),
                            ("--special-tokens/--no-special-tokens", special_tokens)):
            if value is not None:
                raise InvalidInputError(f"{name}: applies to --inputs random or repeated only (got --inputs natural)")
        return
    for name, value in (("--sentences", sentences_path), ("--limit", n_sentences)):
        if value is not None:
            raise InvalidInputError(f"{name}: applies to --inputs natural only (got --inputs {inputs})")
    if length is not None:
        validate.integer_at_least("--length", length, 2)
    if sequences is not None:
        validate.integer_at_least("--sequences", sequences, 1)
        if sequences > MAX_SEQUENCES:
            raise InvalidInputError(f"--sequences: must be an integer in [1, {MAX_SEQUENCES}] (got {sequences})")
    if seed is not None:
        validate.integer_at_least("--seed", seed, 0)


def pretrained_inputs(rep, target, out, model_path, inputs, length, sequences, seed, special_tokens, eps, device,
                      no_progress) -> None:
    """``sinkcheck pretrained --inputs random|repeated``: Sink_k on Table 1's inputs, Sink_first first."""
    res = rep.measure_inputs(inputs, length=length, n_sequences=sequences, seed=seed or 0,
                             special_tokens=special_tokens is not False, eps=eps, model_path=model_path, device=device,
                             progress=not no_progress)
    tables = rep.inputs_tables(res)
    with target.staged() as root:  # tables and summary.json, no figures
        for name, table in tables.items():
            write_table(root, name, table)
        (root / "summary.json").write_text(dumps(rep.inputs_summary_json(res)))
    click.echo(f"model: {res['model']}; {rep.protocol_text(res)}; "
               f"{'causal' if res['causal'] else 'bidirectional'} attention; position 0: {res['first_token']}")
    click.echo(f"sink_first: {float(res['rates'].sink_k[0]):.4f} ({rep.metric_name(res)})")
    click.echo(render(tables["sink_per_layer"], "markdown"), nl=False)
    click.echo(f"wrote {out}/*.md and summary.json")
