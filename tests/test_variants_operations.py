"""The attention operations of sinkcheck.variants: each built-in one against its definition, the
identities between them, and planted errors that these tests catch.

The definitions are written again here, each from its paper's formula for one query row with
visible scores x_j (softmax; Miller's softmax1; gpt-oss's sink logit; Gu et al.'s K bias, sigmoid
and elu + 1 attention; Ramapuram et al.'s sigmoid with b = -log n; Ran-Milo's ReLU; Zuhri et al.'s
softpick; Qiu et al.'s output gate), in mpmath at 60 digits, so that e^{+-1000} is exact enough:
the expected values never come from the code under test.
"""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import log_expit

from sinkcheck import strategies as sst
from sinkcheck.errors import InvalidInputError
from sinkcheck.planted import plant
from sinkcheck.variants import OPERATIONS, register, unregister
from sinkcheck.variants import reference as R
from sinkcheck.variants import stable as T
from tests.support.profiles import examples

RTOL = 1e-12
"""Relative error allowed against the exact value (float64 rounds e^x's argument at |x| ~ 2000 to ~1e-13)."""

ATOL = 1e-300
"""Absolute error allowed: only where the exact weight is subnormal or underflows (below ~1e-308)."""

BUILTINS = sorted(name for name, op in OPERATIONS.items() if op.builtin)
WITH_S = sorted(name for name in BUILTINS if OPERATIONS[name].extra in ("logit", "key"))
SOFTMAX_WEIGHTS = ("softmax", "sink_token", "gated_head", "gated_elem")  # the token and the gate act outside the weights


# --- the definitions, one row at a time: x the visible scores (mpf), n the row's key count, s the extra logit

def _softmax(x, n, s):
    den = mpmath.fsum(mpmath.exp(v) for v in x)
    return [mpmath.exp(v) / den for v in x]


def _extra_logit(x, n, s):  # e^{x_j} / (e^s + sum_i e^{x_i})
    den = mpmath.exp(s) + mpmath.fsum(mpmath.exp(v) for v in x)
    return [mpmath.exp(v) / den for v in x]


def _sigmoid(v):
    return 1 / (1 + mpmath.exp(-v))


def _sigmoid_sum(x, n, s):
    den = mpmath.fsum(_sigmoid(v) for v in x)
    return [_sigmoid(v) / den for v in x]


def _kernel(x, n, s):  # x_j / sum_i x_i, 0/0 read as 0
    den = mpmath.fsum(x)
    return [v / den if den else mpmath.mpf(0) for v in x]


def _softpick(x, n, s):  # max(e^x_j - 1, 0) / sum_i |e^x_i - 1|, 0/0 read as 0
    den = mpmath.fsum(abs(mpmath.expm1(v)) for v in x)
    return [max(mpmath.expm1(v), 0) / den if den else mpmath.mpf(0) for v in x]


DEFINITIONS = {
    "softmax": _softmax, "sink_token": _softmax, "gated_head": _softmax, "gated_elem": _softmax,
    "softmax1": lambda x, n, s: _extra_logit(x, n, mpmath.mpf(0)),
    "sink_logit": _extra_logit, "key_bias": _extra_logit,
    "sigmoid": lambda x, n, s: [_sigmoid(v) for v in x],
    "sigmoid_bias": lambda x, n, s: [_sigmoid(v - mpmath.log(n)) for v in x],
    "sigmoid_sum": _sigmoid_sum,
    "elu1": lambda x, n, s: [v + 1 if v > 0 else mpmath.exp(v) for v in x],  # elu(x) = e^x - 1 for x <= 0
    "linear_elu1": _kernel,
    "relu": lambda x, n, s: [max(v, 0) for v in x],
    "relu_length": lambda x, n, s: [max(v, 0) / len(x) for v in x],
    "softpick": _softpick,
}


def defined_weights(name, S, mask, s=None):
    """The weights of DEFINITIONS[name] on every row of S (masked keys 0), rounded once to float64."""
    T_q, T_k = S.shape[-2:]
    rows = S.reshape(-1, T_q, T_k)
    s_rows = np.broadcast_to(np.asarray(0.0 if s is None else s, dtype=float), S.shape[:-1]).reshape(-1, T_q)
    out = np.zeros(rows.shape)
    with mpmath.workdps(60):
        for b, i in np.ndindex(rows.shape[:2]):
            cols = np.flatnonzero(mask[i])
            w = DEFINITIONS[name]([mpmath.mpf(float(v)) for v in rows[b, i, cols]], T_k, mpmath.mpf(float(s_rows[b, i])))
            out[b, i, cols] = [float(v) for v in w]
    return out.reshape(S.shape)


def assert_close(A, B, rtol=RTOL, atol=ATOL):
    A, B = np.asarray(A), np.asarray(B)
    assert A.shape == B.shape, f"shape {A.shape} != {B.shape}"
    bad = ~(np.abs(A - B) <= rtol * np.abs(B) + atol)
    assert not bad.any(), f"{A[bad][:4]} != {B[bad][:4]} (rtol {rtol}, atol {atol})"


def check_definition(name, weights, S, mask, s=None):
    """``weights`` (an operation's numpy function) equals the definition of ``name``; masked keys get 0."""
    A = weights(S, mask) if s is None else weights(S, mask, s)
    assert A.dtype == np.float64 and np.all(A[..., ~mask] == 0.0)
    assert_close(A, defined_weights(name, S, mask, s))


def _draw_case(data, name):
    op = OPERATIONS[name]
    S, mask, _ = data.draw(sst.attention_scores(nonnegative=op.score == "elu1_kernel"))
    s = data.draw(sst.extra_logits(S.shape[:-1])) if name in WITH_S else None
    return S, mask, s


def test_every_builtin_operation_has_a_definition_here():
    assert sorted(DEFINITIONS) == BUILTINS


@pytest.mark.parametrize("name", BUILTINS)
@settings(max_examples=examples(20))
@given(data=st.data())
def test_every_builtin_operations_weights_equal_its_definition_on_random_and_extreme_scores(name, data):
    S, mask, s = _draw_case(data, name)
    check_definition(name, OPERATIONS[name].weights, S, mask, s)


EXTREME = np.array([[1000.0, -1000.0, 0.0, 999.5], [-1000.0, -999.5, -1000.0, -745.0],
                    [1000.0, 1000.0, 999.5, -30.0], [-0.5, 0.25, 3.0, -1000.0]])
"""Rows at +-1000, mixed and all on one side, checked under every profile whatever hypothesis draws."""


@pytest.mark.parametrize("mask", [np.ones((4, 4), bool), np.tri(4, dtype=bool), np.eye(4, dtype=bool)[::-1] | np.eye(4, dtype=bool)],
                         ids=["full", "causal", "antidiagonal"])
@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_operations_weights_equal_its_definition_at_plus_minus_1000(name, mask):
    S = np.abs(EXTREME) if OPERATIONS[name].score == "elu1_kernel" else EXTREME
    for s in ([None] if name not in WITH_S else [0.0, -1000.0, 1000.0, np.array([1000.0, -1000.0, 0.0, 999.5])]):
        check_definition(name, OPERATIONS[name].weights, S, mask, s)


@settings(max_examples=examples(20))
@given(st.data())
def test_the_gate_is_the_output_times_the_sigmoid_of_the_gate_logit(data):
    Y = data.draw(hnp.arrays(np.float64, (3, 2), elements=sst.score_elements()))
    G = data.draw(hnp.arrays(np.float64, (3, 1), elements=sst.score_elements()))
    with mpmath.workdps(60):
        want = [[float(mpmath.mpf(float(y)) * _sigmoid(mpmath.mpf(float(g[0])))) for y in row] for row, g in zip(Y, G)]
    assert_close(R.gate(Y, G), np.array(want))
    assert_close(T.gate(torch.tensor(Y), torch.tensor(G)).numpy(), np.array(want))


def test_linear_attention_refuses_negative_kernel_scores_naming_S():
    with pytest.raises(InvalidInputError, match=r"^S: kernel scores must be >= 0"):
        OPERATIONS["linear_elu1"].weights(np.array([[1.0, -0.5]]))


# --- identities, on the numpy reference and the torch path

def numpy_weights(name):
    return OPERATIONS[name].weights


def torch_weights(name):
    def weights(S, mask=None, *args):
        args = [torch.as_tensor(np.asarray(a, dtype=float)) for a in args]
        m = None if mask is None else torch.as_tensor(mask)
        return OPERATIONS[name].torch_weights(torch.as_tensor(S, dtype=torch.float64), m, *args).numpy()
    return weights


BACKENDS = {"numpy": numpy_weights, "torch": torch_weights}


def with_extra_column(S, mask, s):
    """[s | S] and [True | mask]: the row with the extra logit s as column 0."""
    s = np.broadcast_to(np.asarray(s, dtype=float), S.shape[:-1])[..., None]
    return np.concatenate([s, S], axis=-1), np.concatenate([np.ones((mask.shape[0], 1), bool), mask], axis=-1)


def check_extra_column(extra, softmax, S, mask, s):
    """extra(S, mask, s) equals softmax over the row with s appended, s's column dropped."""
    S_ext, mask_ext = with_extra_column(S, mask, s)
    assert_close(extra(S, mask, s), softmax(S_ext, mask_ext)[..., 1:])


@pytest.mark.parametrize("backend", BACKENDS)
@given(sst.attention_scores())
def test_softmax1_is_softmax_with_one_extra_zero_score_whose_column_is_dropped(backend, case):
    S, mask, _ = case
    softmax1, softmax = BACKENDS[backend]("softmax1"), BACKENDS[backend]("softmax")
    check_extra_column(lambda S, mask, s: softmax1(S, mask), softmax, S, mask, 0.0)


@pytest.mark.parametrize("name", WITH_S)
@pytest.mark.parametrize("backend", BACKENDS)
@given(data=st.data())
def test_an_extra_logit_is_softmax_with_the_score_s_appended_and_its_column_dropped(backend, name, data):
    # s: one number (a head's sink logit), one per query row (a key bias q . k_s / sqrt(d)), or per head
    S, mask, _ = data.draw(sst.attention_scores())
    if data.draw(st.booleans()):  # heads on the leading axis, one logit per head (gpt-oss's s_h)
        S = np.stack([S, -S]) if S.ndim == 2 else S
        s = data.draw(hnp.arrays(np.float64, (S.shape[0], 1), elements=sst.score_elements()))
    else:
        s = data.draw(sst.extra_logits(S.shape[:-1]))
    check_extra_column(BACKENDS[backend](name), BACKENDS[backend]("softmax"), S, mask, s)


@settings(max_examples=examples(20))
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4), st.data())
def test_a_key_bias_is_softmax_over_the_bias_key_and_the_keys_with_the_bias_column_dropped(T_q, T_k, d, data):
    # Gu et al.'s K bias from queries and keys: x_j = q . k_j / sqrt(d), s = q . k_s / sqrt(d)
    el = st.floats(-30, 30)
    Q, K = (data.draw(hnp.arrays(np.float64, (t, d), elements=el)) for t in (T_q, T_k))
    k_s = data.draw(hnp.arrays(np.float64, (1, d), elements=el))
    S, s = Q @ K.T / np.sqrt(d), (Q @ k_s.T / np.sqrt(d))[:, 0]
    mask = np.ones((T_q, T_k), bool)
    S_ext = Q @ np.concatenate([k_s, K]).T / np.sqrt(d)
    assert_close(OPERATIONS["key_bias"].weights(S, mask, s),
                 OPERATIONS["softmax"].weights(S_ext, np.ones((T_q, T_k + 1), bool))[:, 1:], rtol=1e-11)


@pytest.mark.parametrize("name", SOFTMAX_WEIGHTS)
@pytest.mark.parametrize("backend", BACKENDS)
@given(sst.attention_scores(), st.floats(-1000, 1000))
def test_softmax_weights_are_invariant_to_adding_a_constant_to_every_score(backend, name, case, c):
    S, mask, _ = case
    weights = BACKENDS[backend](name)
    assert_close(weights(S + c, mask), weights(S, mask), rtol=1e-11)  # S + c rounds at |S + c| ~ 2000


@pytest.mark.parametrize("name", ["softmax1", *WITH_S])
@pytest.mark.parametrize("backend", BACKENDS)
@given(data=st.data())
def test_extra_logit_weights_are_shift_invariant_only_when_the_extra_logit_shifts_too(backend, name, data):
    S, mask, _ = data.draw(sst.attention_scores())
    c = data.draw(st.floats(-1000, 1000))
    weights = BACKENDS[backend]("sink_logit")  # softmax1 is s = 0 (its own identity above)
    s = 0.0 if name == "softmax1" else data.draw(sst.extra_logits(S.shape[:-1]))
    assert_close(weights(S + c, mask, s + c), weights(S, mask, s), rtol=1e-11)
    # shifting the scores alone is shifting the extra logit the other way: the weights move with c
    assert_close(weights(S + c, mask, s), weights(S, mask, s - c), rtol=1e-11)


@pytest.mark.parametrize("backend", BACKENDS)
@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10)), st.floats(-10, 10), st.floats(0.5, 5))
def test_shifting_the_scores_alone_strictly_raises_the_mass_on_the_real_keys(backend, x, s, c):
    # the documented failure of shift invariance: |x|, |s| <= 10, so the slot's weight is >= e^-20 / 7
    weights, S, mask = BACKENDS[backend]("sink_logit"), x[None, :], np.ones((1, x.size), bool)
    assert weights(S + c, mask, s).sum() > weights(S, mask, s).sum()
    assert weights(S - c, mask, s).sum() < weights(S, mask, s).sum()


@pytest.mark.parametrize("backend", BACKENDS)
@given(sst.attention_scores())
def test_sigmoid_sum_is_the_softmax_of_log_sigmoid(backend, case):
    S, mask, _ = case
    assert_close(BACKENDS[backend]("sigmoid_sum")(S, mask), BACKENDS[backend]("softmax")(log_expit(S), mask))


def test_sigmoid_sum_is_not_shift_invariant_and_tends_to_uniform_as_the_scores_grow():
    w = OPERATIONS["sigmoid_sum"].weights
    assert w(np.array([[0.0, 2.0]]))[0, 0] == pytest.approx(0.5 / (0.5 + 1 / (1 + np.exp(-2.0))), rel=1e-15)
    np.testing.assert_array_equal(w(np.array([[998.0, 1000.0]])), [[0.5, 0.5]])


@pytest.mark.parametrize("backend", BACKENDS)
@given(sst.attention_scores())
def test_relu_length_is_relu_divided_by_the_number_of_visible_keys(backend, case):
    S, mask, _ = case
    relu, relu_length = BACKENDS[backend]("relu"), BACKENDS[backend]("relu_length")
    np.testing.assert_array_equal(relu_length(S, mask), relu(S, mask) / mask.sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("backend", BACKENDS)
@given(sst.attention_scores())
def test_softpick_is_zero_exactly_where_a_score_is_at_most_zero_and_sums_to_one_without_negative_scores(backend, case):
    S, mask, _ = case
    A = BACKENDS[backend]("softpick")(S, mask)
    visible = np.broadcast_to(mask, S.shape)
    assert np.all(A[(S <= 0) | ~visible] == 0.0) and np.all(A >= 0)
    sums = A.sum(axis=-1)
    assert np.all(sums <= 1 + 1e-12)
    positive, negative = ((S > 0) & visible).any(axis=-1), ((S < 0) & visible).any(axis=-1)
    np.testing.assert_allclose(sums[positive & ~negative], 1.0, rtol=1e-12)
    assert np.all(sums[~positive] == 0.0)  # no positive score: the head is off, exactly


def test_softpick_leaves_the_negative_scores_share_of_the_mass_unassigned():
    # by hand: x = (log 3, -log 2): e^x - 1 = (2, -1/2), weights (2 / 2.5, 0), row sum 0.8
    A = OPERATIONS["softpick"].weights(np.array([[np.log(3.0), -np.log(2.0)]]))
    np.testing.assert_allclose(A, [[0.8, 0.0]], rtol=1e-14)


@pytest.mark.parametrize("name", ["gated_head", "gated_elem"])
@pytest.mark.parametrize("backend", BACKENDS)
@given(sst.attention_scores(batch=False), st.floats(40, 1000), st.data())
def test_gated_attention_with_gate_one_equals_softmax_attention(backend, name, case, G, data):
    # sigmoid(G) == 1.0 in float64 for G >= 40 (1 - e^-40 rounds to 1)
    S, mask, _ = case
    V = data.draw(hnp.arrays(np.float64, (S.shape[-1], 3), elements=st.floats(-5, 5)))
    weights, softmax = BACKENDS[backend](name), BACKENDS[backend]("softmax")
    gates = np.full((S.shape[0], 1 if name == "gated_head" else 3), G)
    gate = R.gate if backend == "numpy" else (lambda Y, G: T.gate(torch.tensor(Y), torch.tensor(G)).numpy())
    np.testing.assert_array_equal(gate(weights(S, mask) @ V, gates), softmax(S, mask) @ V)


@pytest.mark.parametrize("name", BUILTINS)
@settings(max_examples=examples(20))
@given(data=st.data())
def test_numpy_and_torch_weights_agree_to_1e_12_relative_in_float64_up_to_plus_minus_1000(name, data):
    # relative to the weight itself; absolute only below 1e-300 (ATOL), where float64 is subnormal
    S, mask, s = _draw_case(data, name)
    args = () if s is None else (s,)
    assert_close(torch_weights(name)(S, mask, *args), numpy_weights(name)(S, mask, *args))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", BUILTINS)
@settings(max_examples=examples(10))
@given(data=st.data())
def test_torch_weights_and_their_gradients_are_finite_at_plus_minus_1000(name, dtype, data):
    S, mask, s = _draw_case(data, name)
    S_t = torch.tensor(S, dtype=dtype, requires_grad=True)
    args = [] if s is None else [torch.tensor(s, dtype=dtype, requires_grad=True)]
    A = OPERATIONS[name].torch_weights(S_t, torch.tensor(mask), *args)
    assert A.dtype == dtype and torch.isfinite(A).all()
    (A * torch.linspace(-1, 1, A.numel(), dtype=dtype).reshape(A.shape)).sum().backward()
    for x in [S_t, *args]:
        assert torch.isfinite(x.grad).all()
    if dtype == torch.float32:  # and close to the reference on the float32 scores
        S32 = S_t.detach().double().numpy()
        ref = OPERATIONS[name].weights(S32, mask, *[a.detach().double().numpy() for a in args])
        np.testing.assert_allclose(A.detach().double().numpy(), ref, rtol=1e-4, atol=1e-6)
