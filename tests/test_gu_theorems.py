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
    assert not steps["extreme_row_gives_bound"] and not steps["row_threshold"]
    assert not rt.check_alpha1_sum(planted, upto=3)


def test_the_extreme_score_row_reaches_the_bound_and_violates_a_wrong_exponent():
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


def test_scaled_down_bucket_biases_rise_with_distance_yet_give_no_sink_at_T_64():
    b = [rt.t5_bucket(d) for d in range(64)]
    got = {a: sum(first_column([a * x for x in b])) / 64 for a in (0.5, 0.1)}
    assert got[0.5] == pytest.approx(0.21813, abs=1e-5) and got[0.1] == pytest.approx(0.10261, abs=1e-5)
    assert max(got.values()) < 0.3  # "an increasing bias puts a sink" would be refuted here


def test_appendix_b_eq6_as_printed_overshoots_the_last_bucket_and_gives_no_sink_at_T_64():
    # by hand: d < 16 exact; 16 <= d < 128: 16 + floor(ln(d / 16)) * 16, ln(44 / 16) = 1.01 > 1 > ln(43 / 16)
    assert [rt.appendix_b_bucket(d) for d in (0, 15, 16, 43, 44, 63, 127, 128)] == [0, 15, 16, 16, 32, 32, 48, 31]
    g = [float(rt.appendix_b_bucket(d)) for d in range(64)]
    assert max(g) == 32 > 31  # above B - 1 = 31, the last bucket
    alpha = sum(first_column(g)) / 64
    assert alpha == pytest.approx(0.27328, abs=1e-5) and alpha < 0.3
    assert [rt.t5_bucket(d) for d in (43, 44, 63)] == [23, 23, 26]  # T5: 16 + int(16 ln(d / 16) / ln 8)


@settings(max_examples=examples(40))
@given(st.lists(st.floats(0, 4), min_size=1, max_size=12), st.integers(1, 40))
def test_a_bias_largest_beyond_D_gives_the_first_token_at_most_1_over_t_minus_D(steps, extra):
    D = len(steps)  # g(0) = 0, rising by the steps to its largest value g(D), kept for every d >= D
    g = np.concatenate([[0.0], np.cumsum(steps)])
    g = np.concatenate([g, np.full(extra, g[-1])])
    col = first_column(list(g))
    assert all(col[t - 1] <= 1 / (t - D) + 1e-12 for t in range(D + 1, len(g) + 1))
    assert all(rt.first_token_tie_bound(t, D) == (1 / (t - D) if t > D else 1.0) for t in range(1, len(g) + 1))


def test_a_planted_tie_bound_1_over_t_minus_D_plus_1_is_refuted():
    g = [0.0, 0.0, 0.0, 30.0]  # D = 3: row 4 has the first token alone at distance 3, with weight near 1
    assert first_column(g)[3] > 0.99 > 1 / (4 - 3 + 1)


def test_a_rope_head_reaches_the_weight_bound_in_row_3_at_distance_1_and_not_in_row_4():
    x = 1.3
    q, k = np.array([1.3, 0.0]), np.array([-1.0, 0.0])  # q = -k direction, ||q|| ||k|| = 1.3, frequency pi
    A = rt.softmax_rows(rt.rope_scores(q, k, 4, np.array([np.pi])))
    b3 = math.exp(2 * x) / (math.exp(2 * x) + 2)
    assert A[2, 1] == pytest.approx(b3, rel=1e-13)
    b4 = math.exp(2 * x) / (math.exp(2 * x) + 3)
    assert A[3].max() < b4 - 0.1  # row 4: scores -x, x, -x, x: two keys share the top


def test_a_rope_head_with_one_slow_pair_and_xi_10_sinks_at_T_64_above_xi_star():
    x, w = 10.0, 0.05
    s = [-x * math.cos(w * d) for d in range(64)]  # q = -k on one pair: the score rises with the distance
    alpha = sum(first_column(s)) / 64
    assert alpha > 0.3 and alpha == pytest.approx(0.30239, abs=1e-5)
    assert rt.one_pair_rope_alpha1(x, w, 64) == pytest.approx(alpha, rel=1e-12)
    assert rt.one_pair_rope_alpha1(1.0946, w, 64) <= 0.3  # below xi*, no head sinks


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
    eq7_as_transcribed = [2.0 ** (-h * 16 / 8) for h in (1, 2)]  # 2^{-hH/8} at H = 16
    assert rt.alibi_slopes(16)[:2] != eq7_as_transcribed


def test_prop1_weights_are_1_over_t_and_a_planted_distance_bias_breaks_them():
    assert np.allclose(rt.repeated_weights(np.zeros(6))[5, :6], 1 / 6, rtol=0, atol=1e-16)
    assert abs(rt.repeated_weights(np.array([0.0, 0.0, 0.5]))[2, 0] - 1 / 3) > 0.01


@pytest.mark.parametrize("call, name", [
    (lambda: rt.rope_bound(-1.0, 2), "xi"), (lambda: rt.rope_bound(1.0, 0), "t"),
    (lambda: rt.alibi_slopes(3), "H"), (lambda: rt.largest_sink_T(1.0, 1.5), "eps"),
    (lambda: rt.uniform_alpha1(0), "T"), (lambda: rt.t5_bucket(-1), "d"),
    (lambda: rt.appendix_b_bucket(-1), "d"), (lambda: rt.first_token_tie_bound(3, 0), "D"),
    (lambda: rt.one_pair_rope_alpha1(-1.0, 0.05, 64), "xi"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(InvalidInputError, match=name):
        call()
