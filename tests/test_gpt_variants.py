"""The suite's GPT in the architectures of Gu et al.'s Tables 3-5: each positional encoding, norm
placement and attention-bias slot gives causal maps whose rows (with the slot) sum to 1, each
positional term is the formula it names, and the default model is unchanged."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from sinkcheck.errors import InvalidInputError
from sinkcheck.models import positions as P
from sinkcheck.models.gpt import GPT, SLOTS, GPTConfig

pytestmark = pytest.mark.torch

IDX = torch.randint(1, 32, (2, 12), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("pos,norm,slot", list(itertools.product(P.POSITIONS, ("pre", "post"), SLOTS)))
def test_every_architecture_gives_causal_maps_whose_rows_with_the_slot_sum_to_one(pos, norm, slot):
    model = GPT(GPTConfig(pos=pos, norm=norm, slot=slot, mlp=True), seed=1)
    out = model(IDX, targets=IDX, return_attn=True)
    A, bias = out["attn"], out["attn_bias"]
    assert A.shape == (2, 2, 2, 12, 12)
    assert torch.all(A.triu(1) == 0)
    total = A.sum(-1) + (0 if bias is None else bias)
    assert torch.allclose(total, torch.ones_like(total), atol=1e-6)
    assert (bias is None) == (slot in ("none", "v"))  # a value bias adds no key
    out["loss"].backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_t5_buckets_are_exact_below_half_then_log_spaced_and_constant_beyond_the_max_distance():
    n = torch.tensor([0, 1, 15, 16, 20, 64, 127, 128, 1000])
    # 16 + floor(log(n / 16) / log(128 / 16) * 16), written out: log(20/16)/log(8)*16 = 1.72, log(4)/log(8)*16 = 10.67
    assert P.t5_bucket(n).tolist() == [0, 1, 15, 16, 17, 26, 31, 31, 31]


def test_alibi_adds_minus_slope_times_distance_with_slopes_two_to_the_minus_eight_h_over_H():
    attn = GPT(GPTConfig(pos="alibi", n_head=4, n_embd=16), seed=0).blocks[0].attn
    assert attn.slopes.tolist() == [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8]
    bias = attn.position_bias(5)
    assert bias[1, 4, 1].item() == -3 * 2 ** -4 and bias[3, 2, 2].item() == 0.0


def test_rope_keeps_norms_and_makes_scores_depend_on_the_offset_only():
    g = torch.Generator().manual_seed(2)
    q, k = torch.randn(1, 1, 1, 8, generator=g), torch.randn(1, 1, 1, 8, generator=g)
    T = 9
    Q, K = P.rope(q.expand(1, 1, T, 8).clone()), P.rope(k.expand(1, 1, T, 8).clone())
    assert torch.allclose(Q.norm(dim=-1), q.norm().expand(1, 1, T), atol=1e-5)
    S = (Q @ K.transpose(-2, -1))[0, 0]
    for offset in range(T):
        diag = torch.diagonal(S, -offset)
        assert torch.allclose(diag, diag[0].expand_as(diag), atol=1e-5)
    assert not torch.allclose(torch.diagonal(S, 0)[0], torch.diagonal(S, -3)[0], atol=1e-3)


def test_the_sinusoidal_table_is_sine_in_even_and_cosine_in_odd_coordinates():
    table = P.sinusoidal(4, 6)
    assert table[3, 2].item() == pytest.approx(math.sin(3 / 10000 ** (2 / 6)), abs=1e-6)
    assert table[3, 3].item() == pytest.approx(math.cos(3 / 10000 ** (2 / 6)), abs=1e-6)


@pytest.mark.parametrize("direction,expected", [("e1", [5.0, 0, 0, 0]), ("ones", [2.5] * 4)])
def test_a_fixed_slot_value_has_the_asked_norm_and_direction(direction, expected):
    attn = GPT(GPTConfig(slot="k", slot_value_norm=5.0, slot_value_dir=direction, n_head=2, n_embd=8)).blocks[0].attn
    assert attn.v_fixed[1, 0].tolist() == expected


def test_a_value_bias_adds_its_vector_to_every_output_and_adds_no_key():
    model = GPT(GPTConfig(slot="v", kind="softmax", n_layer=1, mlp=False), seed=0)
    attn = model.blocks[0].attn
    with torch.no_grad():
        attn.v_bias.copy_(torch.arange(attn.nh * attn.hs, dtype=torch.float32).view(attn.nh, 1, attn.hs))
    out = model(IDX, return_attn=True)
    assert out["attn_bias"] is None and out["attn"].shape[-1] == IDX.shape[1]  # the maps cover the real tokens only
    x = model.blocks[0].ln_1(model.wte(IDX) + model.wpe(torch.arange(IDX.shape[1])))
    y, A, (q, k, v) = attn(x)
    B, T, C = x.shape
    expected = (A @ v + attn.v_bias).transpose(1, 2).reshape(B, T, C)  # Softmax(QK^T + M) V + v*
    assert torch.allclose(y, attn.c_proj(expected), atol=1e-6) and torch.allclose(A.sum(-1), torch.ones(()), atol=1e-6)
    assert not torch.allclose(y, attn.c_proj((A @ v).transpose(1, 2).reshape(B, T, C)))  # v* did reach the output


@pytest.mark.parametrize("make,fragment", [
    (lambda: GPTConfig(pos="alibí"), "pos:"),
    (lambda: GPTConfig(norm="sandwich"), "norm:"),
    (lambda: GPTConfig(slot="q"), "slot:"),
    (lambda: GPTConfig(slot="kv", slot_value_norm=1.0), "slot_value_norm:"),
    (lambda: GPTConfig(slot="k", slot_value_norm=-1.0), "slot_value_norm:"),
    (lambda: GPTConfig(pos="rope", n_embd=6, n_head=2), "n_embd:"),
    (lambda: GPTConfig(pos="alibi", n_embd=12, n_head=3), "n_head:"),
])
def test_an_impossible_architecture_is_refused_naming_its_field(make, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        make()
