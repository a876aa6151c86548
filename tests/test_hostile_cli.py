"""Every option and argument of every command, given a hostile value: one line naming it and the
rule, exit code 2, nothing written, fast. The table is checked against the CLI's own option
table, so a new option without a case here fails this suite."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import click
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.core import attention as att

CUDA = torch.cuda.is_available()
SPEC = '{"kind": "sinkdiag", "parameters": {"d": 9, "C": 1, "r_eta": 2}}'


def inputs(tmp: Path) -> None:
    """The files the cases name ({tmp}/...): good and bad inputs, a foreign directory, a file."""
    (tmp / "foreign").mkdir()
    (tmp / "foreign" / "thesis.tex").write_text("x")
    (tmp / "existing.md").write_text("mine")
    maps = att.softmax_attention(np.zeros((1, 1, 1, 3, 3)), att.causal_mask(3))
    np.save(tmp / "maps.npy", maps)
    np.savez(tmp / "maps.npz", a=maps, b=maps)
    np.save(tmp / "t0.npy", np.zeros((1, 1, 1, 0, 0)))
    np.save(tmp / "complex.npy", maps.astype(complex))
    torch.save(torch.eye(3).reshape(1, 1, 1, 3, 3).to_sparse(), tmp / "sparse.pt")
    np.save(tmp / "inst.npy", np.zeros(3))
    from sinkcheck.construct.sinkdiag.instance import sample_instance

    inst = sample_instance(9, 1, 2, 2, 1.0, 1.0, seed=0)
    arrays = dict(b=inst.b, dbar=inst.dbar, c=inst.c, d=inst.d, group=inst.group, eta=inst.eta, kappa=1.0)
    np.savez(tmp / "lam_text.npz", lam=np.array("big"), **arrays)
    np.savez(tmp / "lam_complex.npz", lam=np.array(1 + 1j), **arrays)
    inst.save(tmp / "inst.npz")
    (tmp / "grid_deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp / "grid_no.json").write_text('[{"d": 9, "C": 1, "r_eta": 2, "lam": 1.0, "fallback": "no"}]')
    (tmp / "grid_small_d.json").write_text('[{"d": 5, "C": 2, "r_eta": 2, "lam": 1.0}]')
    (tmp / "spec.json").write_text(SPEC)
    (tmp / "spec.txt").write_text(SPEC)
    (tmp / "sentences_empty.txt").write_text("")
    (tmp / "nocheckpoint").mkdir()
    (tmp / "ops.py").write_text("import torch\n\ndef flat(S, mask):\n    return S.sum()\n\n"
                                "def boom(S, mask):\n    raise ValueError('no')\n\nnot_a_function = 3\n")
    (tmp / "raises.py").write_text("raise RuntimeError('at import')\n")


# (command, option or argument name) -> [(arguments after the command, fragment of the one-line error)]
CASES: dict[tuple[str, str], list[tuple[list[str], str]]] = {
    ("bounds", "--d"): [(["--d", "abc"], "'abc' is not a valid integer"), (["--d", "2"], "d: must be an integer >= 3"),
                        (["--d", "1000000000"], "d, C, n, r_eta: the instance d = 1000000000")],
    ("bounds", "--C"): [(["--C", "1e6", "--d", "3e6"], "--C"), (["--C", "1000000", "--d", "3000000"], "needs about"),
                        (["--C", "0"], "C: must be an integer >= 1")],
    ("bounds", "--n"): [(["--n", "1000000"], "n = 1000000, r_eta = 2 with its margin programs needs about"),
                        (["--n", "1"], "n: must be an integer >= 2")],
    ("bounds", "--r-eta"): [(["--r-eta", "0"], "r_eta: must be an integer >= 1"),
                            (["--r-eta", "40"], "d: must be >= 2C + 1 + r_eta = 45")],
    ("bounds", "--lam"): [(["--lam", v], "lam: must") for v in ("1e300", "1e-300", "nan", "-1", "inf")],
    ("bounds", "--kappa"): [(["--kappa", v], "kappa: must") for v in ("1e300", "0", "nan")],
    ("bounds", "--seed"): [(["--seed", "-1"], "seed: must be an integer >= 0")],
    ("bounds", "--instance"): [(["--instance", "{tmp}/inst.npy"], "instance: must be an .npz file"),
                               (["--instance", "{tmp}/nothere.npz"], "instance: cannot read nothere.npz"),
                               (["--instance", "{tmp}/lam_text.npz"], "lam: must hold real numbers"),
                               (["--instance", "{tmp}/lam_complex.npz"], "lam: must hold real numbers"),
                               (["--instance", "{tmp}/inst.npz", "--d", "64"], "--d: cannot be given with --instance")],
    ("bounds", "--save-instance"): [(["--save-instance", "{tmp}/existing.md"], "--save-instance: must end in"),
                                    (["--save-instance", "{tmp}/inst.npz"], "--save-instance: exists; pass --force"),
                                    (["--save-instance", "{tmp}/no/x.npz"], "must be in an existing directory")],
    ("bounds", "--format"): [(["--format", "xml"], "'xml' is not one of")],
    ("claims", "--format"): [(["--format", "xml"], "'xml' is not one of")],
    ("metric", "file"): [(["{tmp}/nothere.npy"], "FILE: no such file"), (["{tmp}/existing.md"], "FILE: must end in"),
                         (["{tmp}/t0.npy"], "FILE: every axis"), (["{tmp}/complex.npy"], "FILE: attention weights must be real"),
                         (["{tmp}/sparse.pt"], "FILE: must hold a dense tensor"), ([], "Missing argument 'FILE'")],
    ("metric", "--key"): [(["{tmp}/maps.npz", "--key", "c"], "--key: must name one of the arrays"),
                          (["{tmp}/maps.npz"], "--key: must name one of"),
                          (["{tmp}/maps.npy", "--key", "a"], "--key: maps.npy holds a single array")],
    ("metric", "--attention"): [(["{tmp}/maps.npy", "--attention", "sideways"], "'sideways' is not one of")],
    ("metric", "--importance"): [(["{tmp}/maps.npy", "--importance", "literal"], "'literal' is not one of")],
    ("metric", "--eps"): [(["{tmp}/maps.npy", "--eps", v], "--eps") for v in ("2", "nan", "-0.1")],
    ("metric", "--format"): [(["{tmp}/maps.npy", "--format", "xml"], "'xml' is not one of")],
    ("metric", "--out"): [(["{tmp}/maps.npy", "--out", "{tmp}/foreign"], "--out: is a non-empty directory"),
                          (["{tmp}/maps.npy", "--out", "{tmp}/existing.md"], "--out: must be a directory")],
    ("pretrained", "--model"): [(["--model", "{tmp}/nothere"], "--model: must be a local checkpoint directory"),
                                (["--model", "{tmp}/nocheckpoint"], "nocheckpoint has no config.json")],
    ("pretrained", "--sentences"): [(["--sentences", "{tmp}/nothere.txt"], "--sentences: cannot read"),
                                    (["--sentences", "{tmp}/sentences_empty.txt"], "sentences_empty.txt holds no non-empty line")],
    ("pretrained", "--limit"): [(["--limit", "0"], "--limit")],
    ("pretrained", "--eps"): [(["--eps", v], "--eps") for v in ("1.5", "nan")],
    ("pretrained", "--device"): [(["--device", "tpu"], "'tpu' is not one of")]
    + ([] if CUDA else [(["--device", "cuda"], "no CUDA device is available")]),
    ("pretrained", "--out"): [(["--out", "{tmp}/foreign"], "--out: is a non-empty directory")],
    ("pretrained", "--inputs"): [(["--inputs", "noise"], "'noise' is not one of")],
    ("pretrained", "--length"): [(["--inputs", "random", "--length", "1"], "--length: must be an integer >= 2"),
                                 (["--length", "64"], "--length: applies to --inputs random or repeated only")],
    ("gu-tables", "--seeds"): [(["--seeds", "x"], "--seeds: must be a list like 0,1,2"),
                               (["--seeds", "-1"], "--seeds: must be a non-empty list of seeds >= 0")],
    ("gu-tables", "--steps"): [(["--steps", "0"], "Invalid value for '--steps': 0 is not in the range x>=1")],
    ("gu-tables", "--rows"): [(["--rows", "table9.x"], "--rows: unknown row id 'table9.x'"),
                              (["--rows", "table4.kv,"], "--rows: unknown row id ''")],
    ("gu-tables", "--workers"): [(["--workers", "-1"], "Invalid value for '--workers'")],
    ("gu-tables", "--scheduler"): [(["--scheduler", v], "--scheduler: must be a Dask scheduler address")
                                   for v in ("not a url", "http://127.0.0.1:8786")],
    ("gu-tables", "--device"): [(["--device", "tpu"], "'tpu' is not one of")]
    + ([] if CUDA else [(["--device", "cuda"], "no CUDA device is available")]),
    ("gu-tables", "--out"): [(["--out", "{tmp}/foreign"], "--out: is a non-empty directory"),
                             (["--out", "{tmp}/existing.md"], "--out")],
    ("pretrained", "--sequences"): [(["--inputs", "repeated", "--sequences", "0"], "--sequences: must be an integer >= 1"),
                                    (["--inputs", "random", "--sequences", "10000000"], "--sequences: must be an integer in")],
    ("pretrained", "--seed"): [(["--inputs", "random", "--seed", "-1"], "--seed: must be an integer >= 0")],
    ("report", "--profile"): [(["--profile", "slow"], "'slow' is not one of")],
    ("report", "--out"): [(["--out", "{tmp}/foreign"], "--out: is a non-empty directory"),
                          (["--out", "."], "--out: must not be the working directory")],
    ("report", "--seed"): [(["--seed", "-1"], "--seed: must be an integer >= 0")],
    ("report", "--device"): [(["--device", "tpu"], "'tpu' is not one of")]
    + ([] if CUDA else [(["--device", "cuda"], "no CUDA device is available")]),
    ("report", "--only"): [(["--only", "no.such"], "--only: unknown check or claim")],
    ("results", "directory"): [(["{tmp}/nothere"], "DIR: holds no sweep database"),
                               (["{tmp}/foreign"], "DIR: is a non-empty directory that sinkcheck did not write"),
                               (["{tmp}/existing.md"], "DIR: must be a directory")],
    ("smoothing", "--n"): [(["--n", "-3"], "n: must be an integer >= 1"), (["--n", "1e9"], "'1e9' is not a valid integer"),
                           (["--n", "10000000000"], "n, n_seq: 10000000000 cases")],
    ("smoothing", "--seed"): [(["--seed", "-1"], "seed: must be an integer >= 0")],
    ("smoothing", "--n-seq"): [(["--n-seq", "0"], "n_seq: must be an integer >= 2"),
                               (["--n-seq", "1000000000"], "n, n_seq: 20 cases of 1000000000 sequences needs about")],
    ("smoothing", "--format"): [(["--format", "xml"], "'xml' is not one of")],
    ("smoothing", "--out"): [(["--out", "{tmp}/existing.md"], "--out: exists; pass --force"),
                             (["--out", "{tmp}/no/t.md"], "--out: must be in an existing directory")],
    ("smoothing", "--plot"): [(["--plot", "{tmp}/x.xyz"], "--plot: must end in one of .png"),
                              (["--plot", "{tmp}/no/x.png"], "--plot: must be in an existing directory")],
    ("sweep", "spec"): [(["{tmp}/nothere.yaml", "--out", "{tmp}/o"], "SPEC: cannot read nothere.yaml"),
                        (["{tmp}/spec.txt", "--out", "{tmp}/o"], "SPEC: must be a .yaml, .yml or .json file")],
    ("sweep", "--out"): [(["{tmp}/spec.json", "--out", "{tmp}/foreign"], "--out: is a non-empty directory"),
                         (["{tmp}/spec.json"], "Missing option '--out'")],
    ("sweep", "--workers"): [(["{tmp}/spec.json", "--out", "{tmp}/o", "--workers", "-1"], "--workers")],
    ("sweep", "--scheduler"): [(["{tmp}/spec.json", "--out", "{tmp}/o", "--scheduler", v], "--scheduler: must be")
                               for v in ("not a url", "http://127.0.0.1:8786")],
    ("sweep", "--resources"): [(["{tmp}/spec.json", "--out", "{tmp}/o", "--resources", "GPU=nan"], "--resources: must")],
    ("sweep", "--max-tasks"): [(["{tmp}/spec.json", "--out", "{tmp}/o", "--max-tasks", "0"], "--max-tasks")],
    ("table", "--grid"): [(["--grid", "{tmp}/grid_deep.json"], "--grid: cannot read grid_deep.json as JSON"),
                          (["--grid", "{tmp}/grid_no.json"], "--grid: fallback in entry 0 must be true or false"),
                          (["--grid", "{tmp}/grid_small_d.json"], "--grid: entry 0: d: must be >= 2C + 1 + r_eta"),
                          (["--grid", "{tmp}/nothere.json"], "--grid: cannot read nothere.json")],
    ("table", "--out"): [(["--out", "{tmp}/existing.md"], "--out: exists; pass --force"),
                         (["--out", "{tmp}/no/t.md"], "--out: must be in an existing directory")],
    ("table", "--plot"): [(["--plot", "{tmp}/x.xyz"], "--plot: must end in one of .png")],
    ("table", "--workers"): [(["--workers", "-1"], "--workers")],
    ("table", "--scheduler"): [(["--scheduler", "not a url"], "--scheduler: must be a Dask scheduler address")],
    ("table", "--format"): [(["--format", "xml"], "'xml' is not one of")],
    ("train dormant", "--profile"): [(["--profile", "slow"], "'slow' is not one of")],
    ("train dormant", "--seeds"): [(["--seeds", "0-1000000000000"], "--seeds: must list at most 1000 seeds"),
                                   (["--seeds", "-1"], "--seeds: must be a non-empty list of seeds >= 0"),
                                   (["--seeds", "a"], "--seeds: must be a list like")],
    ("train dormant", "--steps"): [(["--steps", "0"], "--steps")],
    ("train dormant", "--kinds"): [(["--kinds", "softmax,tanh"], "--kinds: must be one of")],
    ("train dormant", "--tasks"): [(["--tasks", "xyz"], "--tasks: must be one of")],
    ("train dormant", "--weight-decays"): [(["--weight-decays=" + v], "--weight-decays: must") for v in ("-1", "nan", "inf", "a")],
    ("train dormant", "--device"): [(["--device", "tpu"], "'tpu' is not one of")],
    ("train dormant", "--out"): [(["--out", "{tmp}/foreign"], "--out: is a non-empty directory")],
    ("train lm", "--profile"): [(["--profile", "slow"], "'slow' is not one of")],
    ("train lm", "--seed"): [(["--seed", "-1"], "--seed: must be an integer >= 0")],
    ("train lm", "--steps"): [(["--steps", "0"], "--steps")],
    ("train lm", "--kind"): [(["--kind", "tanh"], "'tanh' is not one of")],
    ("train lm", "--device"): [(["--device", "tpu"], "'tpu' is not one of")],
    ("train lm", "--out"): [(["--out", "{tmp}/foreign"], "--out: is a non-empty directory")],
    ("train sinkdiag", "--profile"): [(["--profile", "slow"], "'slow' is not one of")],
    ("train sinkdiag", "--seeds"): [(["--seeds", "-1"], "--seeds: must be a non-empty list")],
    ("train sinkdiag", "--steps"): [(["--steps", "0"], "--steps")],
    ("train sinkdiag", "--dims"): [(["--dims", "1000000000"], "--dims: d, C, n, r_eta: the instance d = 1000000000"),
                                   (["--dims", "2"], "--dims: must be an integer >= 3"),
                                   (["--dims", "7"], "--dims: d: must be >= 2C + 1 + r_eta = 8"),
                                   (["--dims", "a"], "--dims: must be a comma-separated list")],
    ("train sinkdiag", "--out"): [(["--out", "{tmp}/foreign"], "--out: is a non-empty directory")],
    ("trigger", "--seeds"): [(["--seeds", "0"], "--seeds: must be an integer >= 1"),
                             (["--seeds", "1000000000"], "--heads, --seeds, --steps: 6000000000 training runs")],
    ("trigger", "--steps"): [(["--steps", "0"], "--steps: must be an integer >= 1"),
                             (["--steps", "100000000000"], "--heads, --seeds, --steps")],
    ("trigger", "--heads"): [(["--heads", "0"], "--heads: must be an integer >= 1"),
                             (["--heads", "100000000"], "--heads, --seeds, --steps: 9 training runs")],
    ("trigger", "--device"): [(["--device", "tpu"], "'tpu' is not one of")],
    ("trigger", "--format"): [(["--format", "xml"], "'xml' is not one of")],
    ("trigger", "--out"): [(["--out", "{tmp}/foreign"], "--out: is a non-empty directory")],
    ("trigger", "--seed"): [(["--seed", "-1"], "--seed: must be an integer >= 0")],
    ("variants", "--only"): [(["--only", "softmax2"], "--only: must be one of softmax, softmax1"),
                             (["--only", ""], "--only: must be one of")],
    ("variants", "--tasks"): [(["--tasks", "lm"], "--tasks: must be one of trigger, dormant (got 'lm')"),
                              (["--tasks", "trigger,"], "--tasks: must be one of trigger, dormant (got '')")],
    ("variants", "--heads"): [(["--heads", "0"], "--heads: must be integers in 1..8 (got 0)"),
                              (["--heads", "1,two"], "--heads: must be a comma-separated list"),
                              (["--heads", "100000"], "--heads: must be integers in 1..8")],
    ("variants", "--seeds"): [(["--seeds", "x"], "--seeds: must be a list like 0,1,2"),
                              (["--seeds", "0-100000"], "--seeds: must list at most 1000 seeds")],
    ("variants", "--steps"): [(["--steps", "0"], "Invalid value for '--steps'"),
                              (["--steps", "10000000"], "Invalid value for '--steps'")],
    ("variants", "--workers"): [(["--workers", "0"], "Invalid value for '--workers'"),
                                (["--workers", "many"], "Invalid value for '--workers'")],
    ("variants", "--device"): [(["--device", "tpu"], "'tpu' is not one of")]
    + ([] if CUDA else [(["--device", "cuda"], "no CUDA device is available")]),
    ("variants", "--operation"): [
        (["--operation", "no_colon", "--normalises"], "--operation: must be MODULE:ATTR or path.py:ATTR"),
        (["--operation", "math:softmax", "--normalises"], "--operation: 'softmax' is already an operation's name"),
        (["--operation", "math:sqrt"], "--operation: needs --normalises or --no-normalises"),
        (["--operation", "{tmp}/missing.py:f", "--normalises"], "--operation: the file"),
        (["--operation", "{tmp}/raises.py:f", "--normalises"], "--operation: importing"),
        (["--operation", "sinkcheck.no_such_module:f", "--normalises"], "raised ModuleNotFoundError"),
        (["--operation", "{tmp}/ops.py:missing", "--normalises"], "has no attribute 'missing'"),
        (["--operation", "{tmp}/ops.py:not_a_function", "--normalises"], "must be a function (S, mask) -> weights"),
        (["--operation", "{tmp}/ops.py:flat", "--normalises"], "--operation: flat(S, mask) must return finite weights"),
        (["--operation", "{tmp}/ops.py:boom", "--no-normalises"], "--operation: boom(S, mask) must accept"),
        (["--operation", "math:sqrt", "--normalises"], "--operation: sqrt(S, mask) must accept")],
    ("variants", "--format"): [(["--format", "xml"], "'xml' is not one of")],
    ("variants", "--out"): [(["--out", "{tmp}/foreign"], "--out: is a non-empty directory"),
                            (["--out", "{tmp}/existing.md"], "--out"), (["--out", "."], "--out: must not be")],
}

FLAGS_NEED_NO_CASE = "a flag takes no value, so no value of it can be hostile"


def commands() -> dict[str, click.Command]:
    """Every leaf command of the CLI by its path ("train lm"), from the CLI's own table."""
    ctx = click.Context(main)
    out = {}

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), path + [name])
        else:
            out[" ".join(path)] = cmd

    walk(main, [])
    return out


def param_name(p: click.Parameter) -> str:
    return max(p.opts, key=len) if isinstance(p, click.Option) else p.name


def test_every_option_and_argument_of_every_command_has_a_hostile_case_or_is_a_flag():
    missing, stale = [], set(CASES)
    for path, cmd in commands().items():
        for p in cmd.params:
            key = (path, param_name(p))
            stale.discard(key)
            if isinstance(p, click.Option) and p.is_flag:
                assert key not in CASES, f"{key}: {FLAGS_NEED_NO_CASE}"
            elif key not in CASES:
                missing.append(key)
    assert not missing, f"options without a hostile-input case: {missing}"
    assert not stale, f"cases for options that no longer exist: {sorted(stale)}"


ALL = [(cmd, opt, args, fragment) for (cmd, opt), cases in CASES.items() for args, fragment in cases]


@pytest.mark.parametrize("command, option, args, fragment", ALL,
                         ids=[f"{c}:{o}:{i}" for i, (c, o, _, _) in enumerate(ALL)])
def test_each_hostile_value_is_one_line_naming_the_option_exit_2_nothing_written_and_fast(tmp_path, monkeypatch,
                                                                                         command, option, args,
                                                                                         fragment):
    inputs(tmp_path)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # a default --out would land here
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    argv = command.split() + [a.replace("{tmp}", str(tmp_path)) for a in args]
    started = time.monotonic()
    res = CliRunner().invoke(main, argv)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert fragment in lines[0], lines[0]
    assert time.monotonic() - started < 30
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


# ---- in a real process: the inputs that gave tracebacks ---------------------------------------------

BIN = Path(sys.executable).parent / "sinkcheck"


@pytest.mark.parametrize("args, fragment", [
    (["bounds", "--lam", "1e300", "--no-progress"], "lam: must lie in"),
    (["trigger", "--seed", "-1", "--steps", "1", "--seeds", "1", "--no-progress"], "--seed: must be an integer >= 0"),
    (["table", "--plot", "x.xyz", "--no-progress"], "--plot: must end in one of .png"),
    (["bounds", "--C", "abc"], "Invalid value for '--C'"),
])
def test_inputs_that_gave_tracebacks_give_one_line_in_a_real_process(tmp_path, args, fragment):
    res = subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert res.returncode == 2 and res.stdout == "" and len(res.stderr.splitlines()) == 1, res.stderr
    assert res.stderr.startswith("error: ") and fragment in res.stderr and list(tmp_path.iterdir()) == []


def test_an_unexpected_error_is_one_line_with_exit_1_and_the_traceback_only_on_request(tmp_path, monkeypatch):
    from sinkcheck.cli import claims as claims_cli

    def boom(*args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(claims_cli, "render", boom)
    res = CliRunner().invoke(main, ["claims"])
    assert res.exit_code == 1 and res.output.startswith("error: unexpected ZeroDivisionError: planted")
    assert len(res.output.strip().splitlines()) == 1
    monkeypatch.setenv("SINKCHECK_DEBUG", "1")
    assert isinstance(CliRunner().invoke(main, ["claims"]).exception, ZeroDivisionError)


def test_metric_reads_an_npz_that_decompresses_to_far_more_than_its_size_one_sample_at_a_time(tmp_path):
    T, N = 400, 150  # 150 samples of 400 x 400 float64: 192 MB of maps in a file of about 1 MB
    A = att.softmax_attention(np.zeros((1, 1, T, T)), att.causal_mask(T))
    with open(tmp_path / "bomb.npz", "wb") as fh:
        np.savez_compressed(fh, a=np.broadcast_to(A, (N, 1, 1, T, T)))
    assert (tmp_path / "bomb.npz").stat().st_size < 5e6
    code = ("import resource, subprocess, sys\n"
            f"r = subprocess.run([{str(BIN)!r}, 'metric', {str(tmp_path / 'bomb.npz')!r}, '--format', 'csv'],"
            " capture_output=True)\n"
            "assert r.returncode == 0, r.stderr\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    peak_kib = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    baseline = int(subprocess.run([sys.executable, "-c", code.replace("'metric', ", "'metric', '--help', ")],
                                  capture_output=True, text=True, check=True).stdout)
    assert peak_kib - baseline < 100_000, (peak_kib, baseline)  # well under the 192 MB of the maps


def test_a_memory_limit_refuses_sizes_above_it_naming_the_estimate(monkeypatch):
    monkeypatch.setenv("SINKCHECK_MAX_MEMORY", "1000000")
    res = CliRunner().invoke(main, ["bounds", "--d", "4096", "--no-progress"])
    assert res.exit_code == 2 and "more than this machine's 977 KiB" in res.output
    monkeypatch.setenv("SINKCHECK_MAX_MEMORY", "lots")
    res = CliRunner().invoke(main, ["bounds", "--no-progress"])
    assert res.exit_code == 2 and res.output.startswith("error: SINKCHECK_MAX_MEMORY: must be a number of bytes")
