"""Claims of the switch heads (sinkcheck.construct.switch_heads) that no earlier test stated (found by
mutation testing, docs/testing.md): the exact attention weights of the two cancellation
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


def test_the_cancellation_head_is_sink_two_contents_query_in_the_documented_coordinates():
    R, p = 2.0, 2
    Z = sh.cancellation_head(R=R, p=p)["Z"]
    by_hand = np.array([[1.0, 0.0, 0.0, 0.0, 0.0],    # sink (score alpha = sink_logit)
                        [0.0, 0.0, 0.0, R, 0.0],      # free token: value +R u
                        [0.0, 0.0, 0.0, -R, 0.0],     # free token: value -R u
                        [0.0, 1.0, 0.0, 0.0, 0.0]])   # query (own score gamma = sink_logit)
    np.testing.assert_array_equal(Z, by_hand)


def test_the_tight_tokens_head_marks_sink_and_query_and_gives_both_the_value_minus_eps_prime_u():
    # rows: sink e_0 - eps' u, free tokens 0 (their contents are placed by over_contents), query e_1 - eps' u
    eps, eps_prime, R, n, p = 0.3, 0.1, 1.0, 2, 2
    h = sh.tight_tokens_head(eps, eps_prime, R, n, p)
    by_hand = np.zeros((n + 2, 3 + p))
    by_hand[0, 0], by_hand[0, 3] = 1.0, -eps_prime
    by_hand[-1, 1], by_hand[-1, 3] = 1.0, -eps_prime
    np.testing.assert_array_equal(h["Z"], by_hand)
    assert h["i"] == n + 1 and h["free"] == [1, 2]


def test_the_sink_cancellation_head_is_sink_content_query_in_the_documented_coordinates():
    # coordinates: 0 marks the sink, 1 the query, 2 the content's key (score beta = log c), 3.. the value u
    c, R, p = 3.0, 1.5, 2
    Z = sh.sink_cancellation_head(c=c, R=R, p=p)["Z"]
    by_hand = np.array([[1.0, 0.0, 0.0, -c * R, 0.0],   # sink: V z_0 = -c R u
                        [0.0, 0.0, 1.0, R, 0.0],        # content: V z_1 = R u
                        [0.0, 1.0, 0.0, 0.0, 0.0]])     # query: V z_2 = 0
    np.testing.assert_array_equal(Z, by_hand)


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


# ---- evaluate_head and over_contents ---------------------------------------------------------------
def _head():
    h = sh.tight_values_head(0.2, 1.0, 3)  # 5 tokens, query 4
    return h["Z"], h["W"], h["V"]


def test_a_head_at_an_interior_query_ignores_the_tokens_after_it():
    Z, W, V = _head()
    Z = Z + np.random.default_rng(0).normal(0, 0.3, Z.shape)
    for i in range(Z.shape[0]):
        a, v, o = sh.evaluate_head(Z, W, V, i)
        a2, v2, o2 = sh.evaluate_head(Z[: i + 1], W, V, i)
        assert a.shape == (i + 1,) and np.array_equal(a, a2) and np.array_equal(v, v2) and np.array_equal(o, o2)


def test_the_query_at_the_sink_attends_only_to_itself():
    Z, W, V = _head()
    a, v, o = sh.evaluate_head(Z, W, V, 0)
    assert a.tolist() == [1.0] and np.array_equal(o, v[0])


def test_over_contents_refuses_an_empty_or_self_including_free_set():
    Z, W, V = _head()
    for free in ([], [1, 4], [2, 2]):
        with pytest.raises(InvalidInputError, match=r"^free: must be distinct positions in \[1, 4\)"):
            sh.over_contents(Z, W, V, 4, free, Z[[1]])


def test_over_contents_counts_every_configuration_against_the_limit():
    Z, W, V = _head()
    contents = np.zeros((2, Z.shape[1]))
    assert len(sh.over_contents(Z, W, V, 4, [1, 2], contents, limit=4)["configs"]) == 4  # 2^2 = 4 <= 4
    with pytest.raises(InvalidInputError, match=r"^contents: at most 7 configurations \(got 8\)$"):
        sh.over_contents(Z, W, V, 4, [1, 2, 3], contents, limit=7)  # 2^3 = 8
    with pytest.raises(InvalidInputError, match=r"^contents: at most 4096 configurations \(got 4097\)$"):
        sh.over_contents(Z, W, V, 4, [1], np.zeros((4097, Z.shape[1])))


def test_over_contents_reports_the_output_of_every_configuration():
    Z, W, V = _head()
    contents = np.zeros((2, Z.shape[1]))
    contents[:, 3] = [1.0, -1.0]
    res = sh.over_contents(Z, W, V, 4, [1, 2], contents)
    assert res["configs"] == [(0, 0), (0, 1), (1, 0), (1, 1)] and res["outputs"].shape == (4, 2)
    for cfg, o in zip(res["configs"], res["outputs"]):
        Zc = Z.copy()
        Zc[[1, 2]] = contents[list(cfg)]
        assert np.array_equal(o, sh.evaluate_head(Zc, W, V, 4)[2])
    assert res["eps"] == max(np.linalg.norm(o) for o in res["outputs"])


@pytest.mark.parametrize("call, name, rule", [
    (lambda: sh.evaluate_head(np.ones(3), np.eye(3), np.eye(3), 0), "Z", "2-d array"),
    (lambda: sh.evaluate_head(np.ones((3, 2)), np.eye(2), np.eye(2), -1), "i", ">= 0"),
    (lambda: sh.evaluate_head(np.ones((3, 2)), np.eye(2), np.eye(2), 3), "i", "< number of tokens 3 \\(got 3\\)"),
    (lambda: sh.evaluate_head(np.ones((3, 2)), np.eye(2), np.ones(2), 1), "V", "2-d array"),
    (lambda: sh.evaluate_head(np.ones((3, 2)), np.eye(2), np.full((2, 2), np.nan), 1), "V", "finite"),
    (lambda: sh.over_contents(np.ones(3), np.eye(3), np.eye(3), 2, [1], np.ones((1, 3))), "Z", "2-d array"),
    (lambda: sh.over_contents(np.full((3, 2), np.inf), np.eye(2), np.eye(2), 2, [1], np.ones((1, 2))), "Z", "finite"),
])
def test_bad_evaluation_arguments_raise_naming_the_parameter(call, name, rule):
    with pytest.raises(InvalidInputError, match=rf"^{name}: .*{rule}"):
        call()
