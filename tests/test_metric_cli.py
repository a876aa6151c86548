"""``sinkcheck metric FILE``: Gu et al.'s Sink_k^eps on saved attention maps equals the in-memory
metric, whatever the file format; bad maps are one-line errors with exit code 2."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.core import attention as att
from sinkcheck.core.metrics import proxy_scores, sink_rates
from sinkcheck.core.tables import jsonable


def _maps(N=3, L=2, H=2, T=6, seed=0, causal=True):
    S = 3 * np.random.default_rng(seed).standard_normal((N, L, H, T, T))
    S[:, 0, 0, :, 0] += 8  # one head with a first-token sink
    return att.softmax_attention(S, att.causal_mask(T) if causal else None)


def _run(*args):
    return CliRunner().invoke(main, ["metric", *map(str, args)])


def _summary(out):
    return json.loads((out / "summary.json").read_text())


def _save(maps, path):
    if path.suffix == ".npy":
        np.save(path, maps)
    elif path.suffix == ".npz":
        np.savez(path, attn=maps)
    else:
        torch.save(torch.as_tensor(maps, dtype=torch.float32), path)
    return path


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".pt"])
def test_metric_on_a_saved_tensor_equals_the_in_memory_metric(suffix, tmp_path):
    maps = _maps()
    f = _save(maps, tmp_path / f"maps{suffix}")
    result = _run(f, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    # the .pt file holds float32 maps: the reference reads the same float32 values
    ref = sink_rates(maps.astype(np.float32).astype(np.float64) if suffix == ".pt" else maps)
    got = _summary(tmp_path / "out")
    assert got["sink_k"] == jsonable(ref.sink_k) and got["sink_per_layer_first"] == jsonable(ref.per_layer[:, 0])
    assert got["importance"] == "gu" and got["attention"] == "causal"
    assert got["sink_k"][0] > 0  # the planted head


def test_bidirectional_maps_use_the_encoder_importance_by_default(tmp_path):
    maps = _maps(causal=False)
    result = _run(_save(maps, tmp_path / "m.npy"), "--attention", "bidirectional", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    got = _summary(tmp_path / "out")
    assert got["importance"] == "encoder" and got["sink_k"] == jsonable(sink_rates(maps, variant="encoder").sink_k)


def test_proxy_normalises_unnormalised_rows_for_the_metric(tmp_path):
    raw = 1 / (1 + np.exp(-_maps(seed=1) * 5)) * np.tril(np.ones((6, 6)))  # sigmoid-like weights, causal
    assert _run(_save(raw, tmp_path / "raw.npy")).exit_code == 2  # rows do not sum to 1
    result = _run(tmp_path / "raw.npy", "--proxy", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert _summary(tmp_path / "out")["sink_k"] == jsonable(sink_rates(proxy_scores(raw)).sink_k)


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_the_table_states_gu_pooling_and_names_the_other_statistic(fmt, tmp_path):
    result = _run(_save(_maps(), tmp_path / "m.npy"), "--format", fmt)
    assert result.exit_code == 0
    assert "thresholded per (sample, layer, head)" in result.output
    assert "heads_mean_alpha_above_eps averages alpha over the samples first (not Gu et al.'s)" in result.output


def _one_line_error(result, fragment):
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    return result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


def _negative(m):
    m[1, 0, 0, 3, 0] = -0.1
    return m


def _nan(m):
    m[0, 1, 1, 2, 1] = np.nan
    return m


def _not_causal(m):
    m[0, 0, 0, 0, 1] = 0.5
    m[0, 0, 0, 0, 0] = 0.5
    return m


def _rows_off(m):
    m[2, 1, 0, 4] *= 1.01
    return m


@pytest.mark.parametrize("spoil, fragment", [
    (lambda m: m[0], "shape (samples, layers, heads, T, T)"),
    (lambda m: m[..., :-1], "shape (samples, layers, heads, T, T)"),
    (_negative, "maps[1]: attention weights must be >= 0"),
    (_nan, "maps[0]: attention weights must be finite"),
    (_not_causal, "--attention causal: maps[0] has weight 0.5 above the diagonal"),
    (_rows_off, "maps[2]: every row of a softmax map must sum to 1"),
])
def test_bad_maps_are_one_line_errors(spoil, fragment, tmp_path):
    f = _save(spoil(_maps()), tmp_path / "bad.npy")
    result = _run(f, "--out", tmp_path / "out")
    assert _one_line_error(result, fragment), result.output
    assert not (tmp_path / "out").exists()


def test_file_errors_name_the_file_or_the_key(tmp_path):
    assert _one_line_error(_run(tmp_path / "none.npy"), "FILE: no such file")
    (tmp_path / "maps.txt").write_text("1 2 3")
    assert _one_line_error(_run(tmp_path / "maps.txt"), "FILE: must end in .npy, .npz, .pt")
    np.savez(tmp_path / "two.npz", a=_maps(), b=_maps(seed=1))
    assert _one_line_error(_run(tmp_path / "two.npz"), "--key: must name one of the arrays in two.npz: a, b")
    assert _run(tmp_path / "two.npz", "--key", "b").exit_code == 0
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    assert _one_line_error(_run(tmp_path / "junk.npy"), "FILE: cannot read")
