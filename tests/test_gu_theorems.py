"""Gu et al.'s Appendix C.1, Props. 1-4 (sinkcheck.theory.repeated_tokens): the algebra in sympy,
the metric thresholds against their definitions, property tests on random instances, and planted
errors (a wrong exponent, a dropped term, a flipped inequality) that the checks must catch."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import repeated_tokens as rt
from tests.support.profiles import examples

xi, t = rt.xi, rt.t


def direct_alpha1_bound(x, T):
    """(1/T) sum_t e^{2x} / (e^{2x} + t - 1), summed term by term (not the digamma form under test)."""
    with mpmath.workdps(40):
        c = mpmath.e ** (2 * mpmath.mpf(x))
        return mpmath.fsum(c / (c + k - 1) for k in range(1, T + 1)) / T


def first_column(g):
    """A_{t,1} of repeated tokens with bias g, by the textbook formula, loop by loop."""
    return [math.exp(g[n]) / sum(math.exp(g[d]) for d in range(n + 1)) for n in range(len(g))]


def test_every_symbolic_step_of_propositions_1_to_4_holds_exactly():
    steps = rt.symbolic_steps()
    assert len(steps) == 7 and all(steps.values()), steps


@pytest.mark.parametrize("planted", [
    sp.exp(xi) / (sp.exp(xi) + t - 1),  # wrong exponent: e^{xi} for e^{2 xi}
    sp.exp(2 * xi) / (sp.exp(2 * xi) + t),  # dropped term: the -1
    sp.exp(2 * xi) / (sp.exp(2 * xi) - t + 1),  # flipped sign
])
def test_a_planted_error_in_the_rope_bound_is_caught_by_the_algebra(planted):
    steps = rt.check_prop4_algebra(planted)
    assert not steps["attained_by_worst_row"] and not steps["row_threshold"]
    assert not rt.check_alpha1_sum(planted, upto=3)


def test_the_tight_row_attains_the_bound_and_violates_a_wrong_exponent():
    for x, T in ((0.5, 2), (1.5, 7), (3.0, 64)):
        S = np.full((T, T), -np.inf)
        S[np.tril_indices(T)] = -x
        S[-1, 0] = x  # the last row: xi on the first key, -xi on the others
        A = rt.softmax_rows(S)
        assert A[-1, 0] == pytest.approx(math.exp(2 * x) / (math.exp(2 * x) + T - 1), rel=1e-13)
        assert rt.bound_excess(A, x) <= 1e-13
        assert rt.bound_excess(A, x, exponent=1.0) > 0.01


def test_rope_scores_are_q_rotated_by_the_distance_times_k():
    rng = np.random.default_rng(3)
    d = 6
    q, k, om = rng.normal(size=d), rng.normal(size=d), np.array([1.0, 0.3, 0.05])

    def R(m):  # Appendix B's block rotation, acting on row vectors
        M = np.zeros((d, d))
        for i, w in enumerate(om):
            c, s = math.cos(m * w), math.sin(m * w)
            M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, -s], [s, c]]
        return M

    S = rt.rope_scores(q, k, 5, om)
    for i in range(5):
        for j in range(i + 1):
            assert S[i, j] == pytest.approx(q @ R(i - j) @ k, abs=1e-12)
    assert np.isneginf(S[0, 1])


@settings(max_examples=examples(60))
@given(st.integers(1, 8), st.integers(2, 64), st.floats(0.05, 3.0), st.booleans(), st.integers(0, 2**32 - 1))
def test_every_rope_weight_is_below_the_bound_on_random_pairs(half, T, scale, standard, seed):
    rng = np.random.default_rng(seed)
    q, k = scale * rng.normal(size=2 * half), rng.normal(size=2 * half)
    om = rt.rope_frequencies(2 * half) if standard else rng.uniform(0, math.pi, half)
    A = rt.softmax_rows(rt.rope_scores(q, k, T, om))
    x = float(np.linalg.norm(q) * np.linalg.norm(k))
    assert rt.bound_excess(A, x) <= 1e-12
    assert A[1].max() <= rt.two_token_sup(x, float(om.max())) * (1 + 1e-12)


def test_the_two_token_supremum_is_the_bound_at_frequency_pi_and_below_it_at_1():
    for x in (0.3, 1.0, 4.0):
        assert rt.two_token_sup(x, math.pi) == pytest.approx(math.exp(2 * x) / (math.exp(2 * x) + 1), rel=1e-14)
        assert rt.two_token_sup(x, 1.0) < rt.rope_bound(x, 2)
        # attained: the scores depend on the angle b between q and k only; sweep it (one pair at frequency 1)
        q = np.array([math.sqrt(x), 0.0])
        best = max(rt.softmax_rows(rt.rope_scores(q, math.sqrt(x) * np.array([math.cos(b), math.sin(b)]), 2,
                                                  np.array([1.0])))[1].max() for b in np.linspace(0, 2 * math.pi, 7201))
        assert best == pytest.approx(rt.two_token_sup(x, 1.0), rel=1e-6)


def test_uniform_weights_sink_by_the_metric_up_to_T_9_and_not_from_T_10():
    assert rt.uniform_alpha1(9) == Fraction(7129, 2520) / 9 > Fraction(3, 10)  # H_9 = 7129/2520
    assert rt.uniform_alpha1(10) == Fraction(7381, 2520) / 10 <= Fraction(3, 10)  # H_10 = 7381/2520
    assert rt.uniform_no_sink_from() == 10 and rt.uniform_no_sink_from(Fraction(1, 2)) == 5  # H_4 / 4 = 25/48, H_5 / 5 = 137/300
    assert float(rt.uniform_alpha1(64)) == pytest.approx(0.0741233, abs=1e-7)


def test_the_largest_sinking_T_and_smallest_sinking_xi_meet_their_definitions():
    for x in (0.0, 0.5, 1.0, 2.0):
        Tm = rt.largest_sink_T(x)
        assert direct_alpha1_bound(x, Tm) > 0.3 >= direct_alpha1_bound(x, Tm + 1)
    assert rt.largest_sink_T(0.0) == 9 and rt.largest_sink_T(1.0) == 53 and rt.largest_sink_T(2.0) == 378
    x_star = rt.smallest_sink_xi(64)
    assert direct_alpha1_bound(x_star - mpmath.mpf(10) ** -20, 64) < 0.3 < direct_alpha1_bound(x_star + 1e-9, 64)
    assert float(x_star) == pytest.approx(1.0946, abs=5e-5)
    assert rt.smallest_sink_xi(9) == 0  # uniform weights already sink at T = 9


def test_the_row_threshold_is_the_first_row_whose_bound_is_at_most_eps():
    for x in (0.0, 0.7, 2.0, 3.0):
        t0 = rt.weight_no_sink_from(x)
        assert rt.rope_bound(x, t0) <= 0.3 < (rt.rope_bound(x, t0 - 1) if t0 > 1 else 1.0)


@settings(max_examples=examples(60))
@given(st.lists(st.floats(-4, 4), min_size=2, max_size=80))
def test_the_first_token_never_exceeds_1_over_t_under_a_non_increasing_bias(values):
    g = np.sort(np.array(values))[::-1]
    A = rt.repeated_weights(g)
    assert rt.first_token_excess(g) == []
    assert all(A[i, 0] <= A[i, :i + 1].min() * (1 + 1e-12) for i in range(len(g)))  # the smallest, not "the largest"
    assert rt.alpha1(A) <= float(rt.uniform_alpha1(len(g))) + 1e-12


@settings(max_examples=examples(60))
@given(st.lists(st.floats(-4, 4), min_size=2, max_size=80))
def test_the_excess_condition_is_exactly_the_first_token_getting_more_than_1_over_t(values):
    g = np.array(values)
    direct = [n for n, a in enumerate(first_column(g)) if n and a > (1 + 1e-9) / (n + 1)]
    borderline = [n for n, a in enumerate(first_column(g)) if n and abs(a * (n + 1) - 1) <= 1e-9]
    assert set(direct) <= set(rt.first_token_excess(g)) <= set(direct) | set(borderline)
    G = float(g.max() - g.min())  # any bias with range G obeys Prop. 4's bound with 2 xi = G
    assert rt.alpha1(rt.repeated_weights(g)) <= float(rt.rope_alpha1_bound(G / 2, len(g))) + 1e-12


def test_a_planted_flipped_inequality_largest_for_smallest_is_refuted():
    g = -np.arange(10.0)  # non-increasing: the proof says the far (first) token's weight is "the largest"
    A = rt.repeated_weights(g)
    assert A[9, 0] < A[9, :10].max() and A[9, 0] == pytest.approx(A[9, :10].min(), rel=1e-15)


def test_an_increasing_t5_bias_puts_a_sink_on_the_first_token_at_T_64():
    g = [float(rt.t5_bucket(d)) for d in range(64)]
    alpha = sum(first_column(g)) / 64
    assert alpha == pytest.approx(rt.alpha1(rt.repeated_weights(np.array(g))), rel=1e-12)
    assert alpha > 0.3 and alpha == pytest.approx(0.33396, abs=1e-5)
    assert rt.first_token_excess(np.array(g))[:3] == [1, 2, 3]


def test_t5_buckets_are_exact_then_logarithmic_then_constant():
    assert [rt.t5_bucket(d) for d in range(16)] == list(range(16))
    assert [rt.t5_bucket(d) for d in (16, 18, 19, 32, 64, 127, 128, 10_000)] == [16, 16, 17, 21, 26, 31, 31, 31]


@settings(max_examples=examples(40))
@given(st.floats(2.0**-8, 1.0), st.integers(2, 128))
def test_alibi_gives_the_first_token_the_strictly_smallest_weight(m, T):
    A = rt.repeated_weights(-m * np.arange(T))
    assert all(A[i, 0] < A[i, 1:i + 1].min() for i in range(1, T))
    assert rt.alpha1(A) < float(rt.uniform_alpha1(T))


def test_alibi_slopes_are_the_papers_geometric_sequence():
    assert rt.alibi_slopes(8) == [2.0**-h for h in range(1, 9)]
    assert rt.alibi_slopes(16)[:2] == [2.0**-0.5, 2.0**-1]


def test_prop1_weights_are_1_over_t_and_a_planted_distance_bias_breaks_them():
    assert np.allclose(rt.repeated_weights(np.zeros(6))[5, :6], 1 / 6, rtol=0, atol=1e-16)
    assert abs(rt.repeated_weights(np.array([0.0, 0.0, 0.5]))[2, 0] - 1 / 3) > 0.01


@pytest.mark.parametrize("call, name", [
    (lambda: rt.rope_bound(-1.0, 2), "xi"), (lambda: rt.rope_bound(1.0, 0), "t"),
    (lambda: rt.alibi_slopes(3), "H"), (lambda: rt.largest_sink_T(1.0, 1.5), "eps"),
    (lambda: rt.uniform_alpha1(0), "T"), (lambda: rt.t5_bucket(-1), "d"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(InvalidInputError, match=name):
        call()
