"""Claims of the switch heads (sinkcheck.construct.switch_heads) that no earlier test stated (found by
mutation testing, docs/mutation.md): the exact attention weights of the two cancellation
counterexamples, their defaults, and the range of the tight constructions."""

from __future__ import annotations

import numpy as np
import pytest

from sinkcheck.construct import switch_heads as sh
from sinkcheck.errors import InvalidInputError


def test_the_cancellation_head_puts_e_L_over_2_e_L_plus_2_on_the_sink_and_on_the_query():
    # scores: sink L, the two free tokens 0, the query's own key L (alpha = gamma = L)
    R, L, p = 2.0, -3.0, 3
    h = sh.cancellation_head(R=R, sink_logit=L, p=p)
    a, v, o = sh.evaluate_head(h["Z"], h["W"], h["V"], h["i"])
    w = np.exp(L) / (2 * np.exp(L) + 2)
    np.testing.assert_allclose(a, [w, 1 / (2 * np.exp(L) + 2), 1 / (2 * np.exp(L) + 2), w], rtol=1e-12)
    assert np.all(o == 0.0) and v.shape == (4, p)


def test_the_cancellation_head_only_cancels_for_opposite_contents():
    # "for every content" is what forces a sink: (+R, +R) at the free positions gives 2 R / (2 e^L + 2)
    R, L = 2.0, -3.0
    h = sh.cancellation_head(R=R, sink_logit=L)
    contents = h["Z"][h["free"]]
    assert contents[:, 3].tolist() == [R, -R]
    res = sh.over_contents(h["Z"], h["W"], h["V"], h["i"], h["free"], contents)
    assert res["eps"] == pytest.approx(2 * R / (2 * np.exp(L) + 2), rel=1e-12)
    assert np.linalg.norm(res["outputs"][res["configs"].index((0, 1))]) == 0.0


def test_the_sink_cancellation_head_gives_the_content_c_times_the_sink_weight():
    # scores: sink 0, content log c, query 0: weights (1, c, 1) / (c + 2); values -c R, R, 0
    c, R, p = 3.0, 1.5, 1
    h = sh.sink_cancellation_head(c=c, R=R, p=p)
    a, v, o = sh.evaluate_head(h["Z"], h["W"], h["V"], h["i"])
    np.testing.assert_allclose(a, np.array([1.0, c, 1.0]) / (c + 2), rtol=1e-12)
    np.testing.assert_allclose(v[:, 0], [-c * R, R, 0.0], rtol=1e-12)
    assert abs(o[0]) < 1e-14 and h["free"] == [1]


def test_the_counterexample_heads_have_their_signature_defaults():
    a, b = sh.cancellation_head(), sh.cancellation_head(R=1.0, sink_logit=-10.0, p=2)
    c, d = sh.sink_cancellation_head(), sh.sink_cancellation_head(c=2.0, R=1.0, p=2)
    for x, y in ((a, b), (c, d)):
        assert all(np.array_equal(x[k], y[k]) for k in ("Z", "W", "V")) and x["free"] == y["free"]


@pytest.mark.parametrize("n, R, eps, ok", [
    (1, 1.0, 0.4, True),   # 1 (1 - 0.4) = 0.6 > 0.4
    (1, 1.0, 0.6, False),  # 0.4 <= 0.6
    (1, 1.0, 0.5, False),  # 0.5 <= 0.5: no finite alpha (e^alpha = 0)
    (3, 2.0, 1.4, True),   # 3 (0.6) = 1.8 > 1.4
    (3, 2.0, 1.5, False),  # 3 (0.5) = 1.5 <= 1.5
])
def test_the_tight_values_head_exists_exactly_when_n_times_R_minus_eps_exceeds_eps(n, R, eps, ok):
    if ok:
        h = sh.tight_values_head(eps, R, n, p=1)
        res = sh.over_contents(h["Z"], h["W"], h["V"], h["i"], h["free"], h["contents"])
        assert res["eps"] == pytest.approx(eps, rel=1e-12) and h["V"].shape == (1, 4)
    else:
        with pytest.raises(InvalidInputError, match=r"^eps: must satisfy n \(R - eps\) > eps"):
            sh.tight_values_head(eps, R, n)


def test_the_tight_values_head_has_a_two_dimensional_value_by_default():
    assert sh.tight_values_head(0.1, 1.0, 2)["V"].shape == (2, 5)


@pytest.mark.parametrize("call, name, rule", [
    (lambda: sh.cancellation_head(R=0.0), "R", "> 0"),
    (lambda: sh.sink_cancellation_head(c=-1.0), "c", "> 0"),
    (lambda: sh.sink_cancellation_head(R=float("nan")), "R", "finite"),
    (lambda: sh.tight_values_head(0.1, 0.0, 2), "R", "> 0"),
    (lambda: sh.tight_values_head(0.0, 1.0, 2), "eps", "> 0"),
    (lambda: sh.tight_values_head(0.1, 1.0, 0), "n", ">= 1"),
    (lambda: sh.tight_values_head(0.1, 1.0, 2, p=0), "p", ">= 1"),
    (lambda: sh.tight_tokens_head(0.2, 0.1, -1.0, 2), "R", "> 0"),
    (lambda: sh.tight_tokens_head(float("inf"), 0.1, 1.0, 2), "eps", "finite"),
    (lambda: sh.tight_tokens_head(0.2, -0.1, 1.0, 2), "eps_prime", ">= 0"),
    (lambda: sh.tight_tokens_head(0.2, 0.1, 1.0, 0), "n", ">= 1"),
    (lambda: sh.tight_tokens_head(0.2, 0.1, 1.0, 2, p=0), "p", ">= 1"),
])
def test_bad_head_parameters_raise_naming_the_parameter(call, name, rule):
    with pytest.raises(InvalidInputError, match=rf"^{name}: .*{rule}"):
        call()


@pytest.mark.parametrize("h", [
    sh.tight_values_head(0.2, 1.0, 3), sh.tight_tokens_head(0.2, 0.1, 1.0, 3),
    sh.cancellation_head(), sh.sink_cancellation_head(),
], ids=["tight_values", "tight_tokens", "cancellation", "sink_cancellation"])
def test_every_head_uses_the_documented_coordinates_sink_flag_first_query_flag_second(h):
    # module docstring: [sink flag, query flag, key coordinate t, content]; position 0 is the sink
    Z, i = h["Z"], h["i"]
    assert Z[0, :2].tolist() == [1.0, 0.0] and Z[i, :2].tolist() == [0.0, 1.0]
    assert np.all(Z[1:i, :2] == 0.0) and i == Z.shape[0] - 1


def test_the_worst_contents_of_the_tight_values_head_are_plus_and_minus_R_e_1():
    h = sh.tight_values_head(0.3, 2.0, 2, p=2)
    assert h["contents"].tolist() == [[0, 0, 0, 2.0, 0], [0, 0, 0, -2.0, 0]]


@pytest.mark.parametrize("eps, eps_prime, R, ok", [
    (0.2, 0.0, 1.0, True), (0.2, 0.19, 1.0, True), (0.99, 0.1, 1.0, True),
    (0.2, 0.2, 1.0, False), (1.0, 0.1, 1.0, False),
])
def test_the_tight_tokens_head_exists_exactly_when_eps_prime_lt_eps_lt_R(eps, eps_prime, R, ok):
    if ok:
        h = sh.tight_tokens_head(eps, eps_prime, R, 2, p=1)
        res = sh.over_contents(h["Z"], h["W"], h["V"], h["i"], h["free"], h["contents"])
        assert res["eps"] == pytest.approx(eps, rel=1e-12) and h["V"].shape == (1, 4)
        assert res["deficits"].max() == pytest.approx((eps + eps_prime) / (R + eps_prime), rel=1e-12)
        all_minus = res["configs"].index((1, 1))  # the docstring's b_- = (eps - eps') / (2 (R - eps'))
        assert res["deficits"][all_minus] == pytest.approx((eps - eps_prime) / (2 * (R - eps_prime)), rel=1e-12)
    else:
        with pytest.raises(InvalidInputError, match=r"^eps: must satisfy eps_prime < eps < R"):
            sh.tight_tokens_head(eps, eps_prime, R, 2)


def test_the_tight_tokens_head_has_a_two_dimensional_value_by_default():
    assert sh.tight_tokens_head(0.2, 0.1, 1.0, 2)["V"].shape == (2, 5)


def test_the_content_set_of_the_tight_tokens_head_has_values_plus_and_minus_R_u():
    h = sh.tight_tokens_head(0.2, 0.1, 2.0, 3, p=2)
    values = h["contents"] @ h["V"].T
    assert values.tolist() == [[2.0, 0.0], [-2.0, 0.0]]
