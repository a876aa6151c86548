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
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import log_expit

from sinkcheck import strategies as sst
from sinkcheck.core.attention_torch import one_thread
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
    assert A.shape == S.shape and A.dtype == np.float64 and np.all(A[..., ~mask] == 0.0)
    assert_close(A, defined_weights(name, S, mask, s))


def _draw_case(data, name):
    op = OPERATIONS[name]
    S, mask, _ = data.draw(sst.attention_scores(nonnegative=op.score == "elu1_kernel"))
    s = data.draw(sst.extra_logits(S.shape[:-1])) if name in WITH_S else None
    return S, mask, s


@pytest.fixture(autouse=True, scope="module")
def _torch_on_one_thread():  # tiny tensors: threads only contend (2x faster on a loaded machine)
    with one_thread():
        yield


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
@settings(max_examples=examples(25))
@given(data=st.data())
def test_softmax1_is_softmax_with_one_extra_zero_score_whose_column_is_dropped(backend, data):
    S, mask, _ = data.draw(sst.attention_scores())
    softmax1, softmax = BACKENDS[backend]("softmax1"), BACKENDS[backend]("softmax")
    check_extra_column(lambda S, mask, s: softmax1(S, mask), softmax, S, mask, 0.0)


@pytest.mark.parametrize("name", WITH_S)
@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=examples(25))
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
@settings(max_examples=examples(25))
@given(sst.attention_scores(), st.floats(-1000, 1000))
def test_softmax_weights_are_invariant_to_adding_a_constant_to_every_score(backend, name, case, c):
    S, mask, _ = case
    weights = BACKENDS[backend](name)
    assert_close(weights(S + c, mask), weights(S, mask), rtol=1e-11)  # S + c rounds at |S + c| ~ 2000


@pytest.mark.parametrize("name", ["softmax1", *WITH_S])
@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=examples(25))
@given(data=st.data())
def test_extra_logit_weights_are_shift_invariant_only_when_the_extra_logit_shifts_too(backend, name, data):
    S, mask, _ = data.draw(sst.attention_scores())
    c = data.draw(st.floats(-1000, 1000))
    if name == "softmax1":  # its extra logit is 0: shifted with the scores, it is the sink logit c
        softmax1, sink_logit = BACKENDS[backend]("softmax1"), BACKENDS[backend]("sink_logit")
        assert_close(sink_logit(S + c, mask, c), softmax1(S, mask), rtol=1e-11)
        assert_close(softmax1(S + c, mask), sink_logit(S, mask, -c), rtol=1e-11)
        return
    weights, s = BACKENDS[backend](name), data.draw(sst.extra_logits(S.shape[:-1]))
    assert_close(weights(S + c, mask, s + c), weights(S, mask, s), rtol=1e-11)
    # shifting the scores alone is shifting the extra logit the other way: the weights move with c
    assert_close(weights(S + c, mask, s), weights(S, mask, s - c), rtol=1e-11)


@pytest.mark.parametrize("name", ["softmax1", *WITH_S])
@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=examples(25))
@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10)), st.floats(-10, 10), st.floats(0.5, 5))
def test_shifting_the_scores_alone_strictly_raises_the_mass_on_the_real_keys(backend, name, x, s, c):
    # the documented failure of shift invariance: |x|, |s| <= 10, so the slot's weight is >= e^-20 / 7
    weights, S, mask = BACKENDS[backend](name), x[None, :], np.ones((1, x.size), bool)
    args = () if name == "softmax1" else (s,)
    assert weights(S + c, mask, *args).sum() > weights(S, mask, *args).sum()
    assert weights(S - c, mask, *args).sum() < weights(S, mask, *args).sum()


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=examples(25))
@given(sst.attention_scores())
def test_sigmoid_sum_is_the_softmax_of_log_sigmoid(backend, case):
    S, mask, _ = case
    assert_close(BACKENDS[backend]("sigmoid_sum")(S, mask), BACKENDS[backend]("softmax")(log_expit(S), mask))


def test_sigmoid_sum_is_not_shift_invariant_and_tends_to_uniform_as_the_scores_grow():
    w = OPERATIONS["sigmoid_sum"].weights
    assert w(np.array([[0.0, 2.0]]))[0, 0] == pytest.approx(0.5 / (0.5 + 1 / (1 + np.exp(-2.0))), rel=1e-15)
    np.testing.assert_array_equal(w(np.array([[998.0, 1000.0]])), [[0.5, 0.5]])


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=examples(25))
@given(sst.attention_scores())
def test_relu_length_is_relu_divided_by_the_number_of_visible_keys(backend, case):
    S, mask, _ = case
    relu, relu_length = BACKENDS[backend]("relu"), BACKENDS[backend]("relu_length")
    np.testing.assert_array_equal(relu_length(S, mask), relu(S, mask) / mask.sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=examples(25))
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
@settings(max_examples=examples(25))
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


# --- planted errors: the tests above fail on them

CLAIM_DEFINITION = test_every_builtin_operations_weights_equal_its_definition_on_random_and_extreme_scores
BROKEN_PLANT = (NameError, TypeError, AttributeError, SyntaxError, ImportError)


def unshrunk(claim, **fixed):
    """The property test ``claim`` (one that draws from ``data``) with ``fixed`` arguments, run by
    hypothesis without shrinking: the first failing example is all a planted error needs."""
    inner = claim.hypothesis.inner_test

    @settings(max_examples=examples(20), phases=[Phase.generate], database=None, derandomize=True)
    @given(data=st.data())
    def run(data):
        inner(data=data, **fixed)
    return run

PLANTED = [  # (reference function, operator, index, the operation whose definition test must catch it)
    ("extra_logit", "drop_term", 3, "softmax1"),  # e^{s - m} -> e^s: the naive max-shift (the 1 kept)
    ("extra_logit", "drop_term", 3, "sink_logit"),
    ("extra_logit", "drop_term", 1, "key_bias"),  # the scores not shifted by the row's max
    ("extra_logit", "drop_term", 2, "sink_logit"),  # the real keys dropped from the denominator
    ("softmax1", "constant", 0, "softmax1"),  # the extra logit 1 instead of 0
    ("sigmoid", "drop_term", 0, "sigmoid_bias"),  # the bias b dropped
    ("sigmoid_log_n", "constant", 0, "sigmoid_bias"),  # n = T_q (shape[-2]) for T_k: seen on rectangular rows only
    ("sigmoid_sum", "constant", 0, "sigmoid_sum"),  # log(e^1 + e^-x) for log(1 + e^-x)
    ("elu1", "compare", 0, "elu1"),
    ("elu1", "drop_term", 0, "elu1"),  # x for x + 1
    ("normalised", "compare", 0, "linear_elu1"),
    ("kernel_normalised", "compare", 0, "linear_elu1"),  # valid kernel scores refused
    ("softpick", "drop_term", 0, "softpick"),  # e^x for e^x - 1
    ("softpick", "compare", 0, "softpick"),  # expm1(min(x, 1)) used for x > 1
]


@pytest.mark.parametrize("function, operator, index, name", PLANTED, ids=lambda v: str(v))
def test_a_planted_error_in_a_reference_operation_is_caught_by_its_definition_test(function, operator, index, name):
    claim = unshrunk(CLAIM_DEFINITION, name=name)
    claim()  # control: the real code passes
    with plant(getattr(R, function), operator, index) as change:
        with pytest.raises(Exception) as info:
            claim()
    assert not isinstance(info.value, BROKEN_PLANT), f"planted {change}: {info.value!r}"


def naive_softmax1(S, mask=None):
    """The max-shift pitfall: e^{x_j - m} / (1 + sum_i e^{x_i - m}), m = max_j x_j, the 1 left as it is."""
    z = np.where(np.ones(S.shape[-2:], bool) if mask is None else mask, S, -np.inf)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / (1.0 + e.sum(axis=-1, keepdims=True))


def naive_softmax1_torch(S, mask=None):
    z = S if mask is None else S.masked_fill(~mask, float("-inf"))
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))
    return e / (1.0 + e.sum(dim=-1, keepdim=True))


def test_the_naive_max_shift_is_the_sink_logit_at_s_equal_to_the_rows_max_not_softmax1():
    S, mask = np.array([[2.0, 0.5, -1.0], [0.0, -1.0, -3.0]]), np.ones((2, 3), bool)
    check_definition("sink_logit", lambda S, mask, s: naive_softmax1(S, mask), S, mask, S.max(axis=-1))
    check_definition("softmax1", naive_softmax1, S[1:], mask[1:])  # right only where the row's max is 0
    with pytest.raises(AssertionError):
        check_definition("softmax1", naive_softmax1, S[:1], mask[:1])
    # by hand, one key at 1000: softmax1 gives e^1000 / (1 + e^1000) = 1.0 in float64, the naive shift 1/2
    assert naive_softmax1(np.array([[1000.0]]))[0, 0] == 0.5 and OPERATIONS["softmax1"].weights(np.array([[1000.0]]))[0, 0] == 1.0


def _replaced(monkeypatch, name, **fields):
    import dataclasses

    monkeypatch.setitem(OPERATIONS, name, dataclasses.replace(OPERATIONS[name], **fields))


def test_the_softmax1_identity_test_fails_on_the_naive_max_shift(monkeypatch):
    claim = test_softmax1_is_softmax_with_one_extra_zero_score_whose_column_is_dropped
    with plant(R.extra_logit, "drop_term", 3) as change:  # the registry's own reference, planted
        assert change == "s - m -> s"
        with pytest.raises(AssertionError):
            unshrunk(claim, backend="numpy")()
    _replaced(monkeypatch, "softmax1", weights=naive_softmax1, torch_weights=naive_softmax1_torch)
    for backend in BACKENDS:
        with pytest.raises(AssertionError):
            unshrunk(claim, backend=backend)()


def kept_column(S, mask, s):
    """A dropped column kept: the weights of the row with s appended, s's column included."""
    return OPERATIONS["softmax"].weights(*with_extra_column(S, mask, s))


def renormalised(S, mask, s):
    """A dropped column's mass handed back: the real keys' weights renormalised to sum to 1."""
    return R.normalised(R.extra_logit(S, mask, s))


def _torch_of(fn):
    return lambda S, mask, s: torch.as_tensor(fn(S.numpy(), mask.numpy(), np.asarray(s)))


@pytest.mark.parametrize("wrong", [kept_column, renormalised], ids=["kept", "renormalised"])
def test_a_dropped_column_kept_or_renormalised_fails_the_identity_and_definition_tests(monkeypatch, wrong):
    _replaced(monkeypatch, "sink_logit", weights=wrong, torch_weights=_torch_of(wrong))
    for claim, kw in [(test_an_extra_logit_is_softmax_with_the_score_s_appended_and_its_column_dropped,
                       {"backend": "numpy", "name": "sink_logit"}),
                      (test_an_extra_logit_is_softmax_with_the_score_s_appended_and_its_column_dropped,
                       {"backend": "torch", "name": "sink_logit"}),
                      (CLAIM_DEFINITION, {"name": "sink_logit"})]:
        with pytest.raises(AssertionError):
            unshrunk(claim, **kw)()


def test_a_sigmoid_through_one_plus_tanh_is_off_by_1e_4_relative_at_minus_30_which_the_definition_test_catches():
    # the reference's sigmoid was 0.5 (1 + tanh(x / 2)): within 1e-16 absolutely, yet 1 - tanh(15) keeps ~3 digits
    tanh_sigmoid = lambda S, mask: np.where(mask, 0.5 * (1.0 + np.tanh(0.5 * S)), 0.0)  # noqa: E731
    S, mask = np.array([[-30.0]]), np.ones((1, 1), bool)
    assert np.abs(tanh_sigmoid(S, mask) - defined_weights("sigmoid", S, mask)).max() < 1e-16
    with pytest.raises(AssertionError):
        check_definition("sigmoid", tanh_sigmoid, S, mask)


def test_the_agreement_test_catches_a_torch_elu1_computed_as_e_to_the_x_minus_1_plus_1(monkeypatch):
    # stable.elu1 was F.elu(x) + 1: (e^-40 - 1) + 1 rounds to 0, elu1(-40) = e^-40 = 4.2e-18
    _replaced(monkeypatch, "elu1", torch_weights=lambda S, mask: (torch.nn.functional.elu(S) + 1.0).masked_fill(~mask, 0.0))
    S, mask = np.array([[-40.0, 2.0]]), np.ones((1, 2), bool)
    assert torch_weights("elu1")(S, mask)[0, 0] == 0.0
    with pytest.raises(AssertionError):
        unshrunk(test_numpy_and_torch_weights_agree_to_1e_12_relative_in_float64_up_to_plus_minus_1000, name="elu1")()


# --- a user's operation

@pytest.fixture
def user_name():
    yield "scaled_relu"
    unregister("scaled_relu")


def test_a_user_operation_without_numpy_weights_gets_its_torch_function_run_in_float64(user_name):
    seen = []

    def scaled_relu(S, mask, c=1.0):
        seen.append((S.dtype, None if mask is None else mask.dtype))
        return torch.relu(S * (c + 2.0**-40)).masked_fill(~mask, 0.0)  # 1 + 2^-40 is 1 in float32

    op = register(user_name, scaled_relu, normalises=False)
    assert OPERATIONS[user_name] is op and not op.builtin and op.torch_weights is scaled_relu
    A = op.weights(np.array([[3.0, -1.0]], dtype=np.float32), np.array([[True, False]]), c=2.0)
    assert seen == [(torch.float64, torch.bool)] and isinstance(A, np.ndarray) and A.dtype == np.float64
    np.testing.assert_array_equal(A, [[3.0 * (2.0 + 2.0**-40), 0.0]])
    unregister(user_name)
    assert user_name not in OPERATIONS


def test_a_user_operation_may_be_a_torch_module(user_name):
    class Quiet(torch.nn.Module):
        def forward(self, S, mask):
            return T.softmax1(S, mask)

    op = register(user_name, Quiet(), normalises=True)
    S, mask = np.array([[1.0, 2.0]]), np.ones((1, 2), bool)
    assert_close(op.weights(S, mask), defined_weights("softmax1", S, mask))


@pytest.mark.parametrize("name", ["softmax", "sink_logit", "gated_elem"])
def test_a_builtin_operation_cannot_be_replaced(name):
    before = OPERATIONS[name]
    with pytest.raises(InvalidInputError, match=rf"^name: must not be a built-in operation's name \(got '{name}'\)$"):
        register(name, T.relu, normalises=False)
    assert OPERATIONS[name] is before
    unregister(name)
    assert OPERATIONS[name] is before


@pytest.mark.parametrize("kw, message", [
    ({"torch_weights": 3}, r"^torch_weights: must be callable, a function or a torch module \(got 3\)$"),
    ({"weights": "softmax"}, r"^weights: must be callable or None \(got 'softmax'\)$"),
    ({"name": "my op"}, r"^name: must be a Python identifier .* \(got 'my op'\)$"),
    ({"extra": "bias"}, r"^extra: must be one of none, logit, key, token, gate_head, gate_elem \(got 'bias'\)$"),
    ({"score": "cosine"}, r"^score: must be one of dot, elu1_kernel \(got 'cosine'\)$"),
])
def test_bad_input_to_register_is_refused_naming_the_parameter_and_registers_nothing(kw, message):
    before = dict(OPERATIONS)
    args = {"name": "user_op", "torch_weights": T.relu, **kw}
    with pytest.raises(InvalidInputError, match=message):
        register(args.pop("name"), args.pop("torch_weights"), normalises=False, **args)
    assert OPERATIONS == before


# --- the strategies

@given(st.booleans(), st.data())
def test_attention_scores_lie_in_plus_minus_1000_and_every_query_sees_a_key(nonnegative, data):
    S, mask, kind = data.draw(sst.attention_scores(nonnegative=nonnegative))
    assert np.all(np.abs(S) <= 1000) and mask.shape == S.shape[-2:] and mask.any(axis=-1).all()
    assert not nonnegative or S.min() >= 0
    assert S.shape[-2] <= S.shape[-1]
    if kind == "causal":
        np.testing.assert_array_equal(mask, np.tri(*mask.shape, mask.shape[1] - mask.shape[0], dtype=bool))


def test_attention_scores_reach_plus_and_minus_1000_rectangular_rows_and_a_random_mask():
    from hypothesis import find

    find(sst.attention_scores(), lambda c: c[2] == "random" and not c[1].all() and c[0].shape[-2] < c[0].shape[-1]
         and (c[0] == 1000).any() and (c[0] == -1000).any())
    assert find(sst.attention_scores(nonnegative=True), lambda c: (c[0] == 1000).any())[0].min() >= 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["softpick", "linear_elu1"])
def test_a_row_whose_only_positive_score_is_subnormal_puts_all_its_mass_there(backend, name):
    # by the definitions: (e^x - 1) / |e^x - 1| = 1 and x / x = 1 for x = 1e-310 (a total clamped to
    # the smallest normal number, 2.2e-308, gave 4.5e-3 and 2e-16)
    S = np.array([[1e-310, 0.0], [5e-324, 0.0]])
    np.testing.assert_array_equal(BACKENDS[backend](name)(S, np.ones((2, 2), bool)), [[1.0, 0.0], [1.0, 0.0]])
