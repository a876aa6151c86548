"""The small transformer, the switch-off tasks and the training path (docs/empirical.md)."""

import numpy as np
import pytest
import torch

from sinkcheck.errors import InvalidInputError
from sinkcheck.experiments.dormant_train import TaskConfig, TrainConfig, bigram_table, grid, sample_task_batch, train_run
from sinkcheck.core.attention_torch import pick_device
from sinkcheck.models.gpt import GPT, GPTConfig

pytestmark = pytest.mark.torch


def _maps(cfg, T=6, seed=0):
    model = GPT(cfg, seed=seed)
    idx = torch.randint(1, cfg.vocab_size, (3, T), generator=torch.Generator().manual_seed(1))
    idx[:, 0] = cfg.bos_id
    with torch.no_grad():
        return model, model(idx, return_attn=True)


def test_softmax_maps_are_causal_distributions_with_the_documented_shape():
    cfg = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
    _, out = _maps(cfg)
    A = out["attn"]
    assert A.shape == (2, 3, 2, 6, 6) and out["resid"].shape == (2, 3, 6, 8)
    assert torch.allclose(A.sum(-1), torch.ones(2, 3, 2, 6), atol=1e-6)
    assert float(A.triu(1).abs().max()) == 0.0


def test_sigmoid_and_relu_weights_are_not_normalised():
    for kind in ("sigmoid", "relu"):
        _, out = _maps(GPTConfig(vocab_size=11, block_size=8, n_embd=8, kind=kind, relu_normalise="none"))
        sums = out["attn"].sum(-1)
        assert float((sums - 1).abs().max()) > 0.1, kind


def test_key_bias_slot_gets_one_over_visible_plus_one_when_all_scores_are_equal():
    # zero queries => every score (bias slot included) is 0 => softmax is uniform over i + 2 keys
    cfg = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8, slot="k")
    model = GPT(cfg)
    with torch.no_grad():
        model.blocks[0].attn.c_attn.weight[:8].zero_()
    idx = torch.tensor([[0, 3, 4, 5, 6]])
    with torch.no_grad():
        out = model(idx, return_attn=True)
    expected = 1.0 / (torch.arange(5) + 2.0)
    assert torch.allclose(out["attn_bias"][0, 0, 0], expected, atol=1e-6)
    assert torch.allclose(out["attn"][0, 0, 0, :, 0], expected, atol=1e-6)


def test_bigram_backcopy_copies_the_token_after_the_previous_trigger_occurrence():
    task = TaskConfig(T=40)
    x, trig = sample_task_batch(task, np.random.default_rng(3), 50)
    checked = 0
    for row in x:
        for t in range(1, len(row) - 1):
            a = row[t]
            if 1 <= a <= task.n_triggers:
                prev = [s for s in range(1, t) if row[s] == a]
                if prev:
                    assert row[t + 1] == row[prev[-1] + 1]
                    checked += 1
    assert checked > 100


def test_non_trigger_tokens_are_followed_by_an_allowed_bigram_or_a_trigger():
    task = TaskConfig()
    P = bigram_table(task)
    x, _ = sample_task_batch(task, np.random.default_rng(4), 50, P)
    a, b = x[:, 1:-1].ravel(), x[:, 2:].ravel()
    ordinary = a > task.n_triggers
    ok = (P[a, b] > 0) | (b <= task.n_triggers)
    assert ordinary.sum() > 500 and bool(np.all(ok[ordinary]))


def test_same_seed_gives_the_same_run_and_another_seed_a_different_one():
    task, cfg, tr = TaskConfig(T=8), GPTConfig(n_embd=16), TrainConfig(steps=3, batch_size=4, n_eval=5)
    r1, r2, r3 = (train_run(task, cfg, tr, seed=s) for s in (0, 0, 1))
    assert r1.loss == r2.loss and np.array_equal(r1.alpha0, r2.alpha0)
    assert r1.loss != r3.loss


def test_relu_run_reports_proxy_and_raw_bos_weights():
    r = train_run(TaskConfig(T=8), GPTConfig(n_embd=16, kind="relu"), TrainConfig(steps=2, batch_size=4, n_eval=5))
    assert 0.0 <= r.sink <= 1.0 and r.bos_raw >= 0.0 and r.alpha0.shape == (2, 2)


def test_grid_has_every_kind_and_the_weight_decay_sweep():
    runs = grid("quick", seeds=(0,), steps=1)
    kinds = {(r["task"], r["kind"]) for r in runs}
    assert len(kinds) == 6 and {r["weight_decay"] for r in runs} == {0.0, 0.1, 1.0, 5.0}


@pytest.mark.parametrize("make", [
    lambda: GPTConfig(kind="tanh"),
    lambda: GPTConfig(n_embd=10, n_head=3),
    lambda: GPTConfig(bos_id=99),
    lambda: TaskConfig(task="copy"),
    lambda: TaskConfig(vocab_size=5),
    lambda: TaskConfig(p_trigger=1.5),
    lambda: grid("medium"),
    lambda: train_run(TaskConfig(), GPTConfig(), TrainConfig(), seed=-1),
])
def test_bad_settings_raise_invalid_input(make):
    with pytest.raises(InvalidInputError):
        make()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_a_gpu_is_an_input_error():
    with pytest.raises(InvalidInputError, match="device"):
        pick_device("cuda")
