"""docs/switch.md: a sink is a hard attention switch (Theorems S1-S4 of sinkcheck.theory.switch)."""

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.construct import switch_heads as sh
from sinkcheck.core.attention import head_output
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import switch
from sinkcheck.construct.switch_heads import sink_alone_configs
import math

el = st.floats(-2, 2, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def content_heads(draw, keys_move: bool):
    """A causal head over tokens z = (key part k in R^3, content c in R^p), query last.

    keys_move=False: W is blind to the content block (only values change with content, S2).
    keys_move=True: W is a full random matrix (keys change with content, S3).
    """
    p, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    d = 3 + p
    W = draw(hnp.arrays(np.float64, (d, d), elements=el))
    V = np.hstack([np.zeros((p, 3)), draw(hnp.arrays(np.float64, (p, p), elements=el))])
    Z = draw(hnp.arrays(np.float64, (n + 2, d), elements=el))
    Z[1:-1] = 0.0  # free rows, overwritten by the contents
    sink_scale = draw(st.sampled_from([0.0, 0.01, 0.1, 1.0]))
    Z[0, 3:] *= sink_scale  # small or zero sink value
    Z[-1, 3:] *= sink_scale
    boost = draw(st.floats(0, 12))
    W += boost * np.sqrt(d) * np.outer(Z[-1], Z[0]) / max(1e-9, (Z[-1] @ Z[-1]) * (Z[0] @ Z[0]))
    if not keys_move:
        W[:, 3:] = 0.0  # scores blind to the content block
    return {"Z": Z, "W": W, "V": V, "i": n + 1, "free": list(range(1, n + 1)), "p": p, "n": n}


# ------------------------------------------------------------------ S1 (forward)
@given(content_heads(keys_move=True), hnp.arrays(np.float64, (3, 6), elements=el))
def test_output_norm_is_at_most_the_switch_bound_on_sampled_heads(h, C):
    Z = h["Z"].copy()
    Z[h["free"]] = C[: h["n"], : Z.shape[1]]
    a, v, o = sh.evaluate_head(Z, h["W"], h["V"], h["i"])
    others = max(np.linalg.norm(v[1:], axis=1))  # every j != 0, the query's own key included
    bound = (1 - a[0]) * others + a[0] * np.linalg.norm(v[0])
    assert np.linalg.norm(o) <= bound + 1e-12 * (1 + bound)


def test_hard_sink_with_zero_sink_value_outputs_exactly_zero():
    rng = np.random.default_rng(0)
    Z, V = rng.standard_normal((6, 4)), rng.standard_normal((3, 4))
    V -= np.outer(V @ Z[0], Z[0]) / (Z[0] @ Z[0])  # V z_0 = 0
    o = head_output(np.eye(6)[0][None, :], Z, V)[0]  # hard attention: all mass on z_0
    assert np.all(np.abs(o) <= 1e-14)


def test_forward_bound_is_attained_when_free_values_align_with_the_fixed_value():
    assert switch.check_forward_attainment()
    h = sh.tight_values_head(eps=0.2, R=1.5, n=3)
    r = sh.over_contents(h["Z"], h["W"], h["V"], h["i"], h["free"], h["contents"])
    assert r["eps"] == pytest.approx(switch.forward_bound(h["a_P"], 1.5, 0.0), rel=1e-12)


def test_a_planted_dropped_sink_term_is_caught():
    """Dropping a_0 ||V z_0|| from S1 is refuted by a head whose sink value is not zero."""
    h = sh.sink_cancellation_head(c=2.0)
    Z = h["Z"].copy()
    Z[1, 3] = -1.0  # content aligned with the sink value: no cancellation
    a, v, o = sh.evaluate_head(Z, h["W"], h["V"], h["i"])
    dropped = (1 - a[0]) * max(np.linalg.norm(v[1:], axis=1))
    assert np.linalg.norm(o) > dropped + 0.1
    assert np.linalg.norm(o) <= dropped + a[0] * np.linalg.norm(v[0]) + 1e-12


def test_a_planted_flipped_forward_inequality_is_caught():
    h = sh.cancellation_head()
    a, v, o = sh.evaluate_head(h["Z"], h["W"], h["V"], h["i"])
    bound = (1 - a[0]) * max(np.linalg.norm(v[1:], axis=1)) + a[0] * np.linalg.norm(v[0])
    assert not np.linalg.norm(o) >= bound  # "||o|| >= bound" is false here


# ------------------------------------------------------------------ S2 (values vary)
def _worst_output_matches_the_closed_form(h, R, rand):
    """sup over ||c_j|| <= R of ||o|| = a_P ||vbar_P|| + (1 - a_P) R (V_c = I on the content block),
    with R u (u the direction of vbar) and the rows of ``rand`` (pulled into the ball) as contents."""
    p = h["p"]
    V = np.hstack([np.zeros((p, 3)), np.eye(p)])
    a, v, _ = sh.evaluate_head(h["Z"], h["W"], V, h["i"])  # free rows are 0: scores do not see content
    fixed = [0, h["i"]]
    a_P, vbar = switch.fixed_part(a, v, fixed)
    formula = switch.forward_bound(a_P, R, np.linalg.norm(vbar))
    # the unit vector of vbar, scaled first: the squares of entries ~1e-159 underflow, and vbar / ||vbar||
    # would then be off unit length, putting R u outside the ball
    scale = np.abs(vbar).max()
    u = (vbar / scale) / np.linalg.norm(vbar / scale) if scale > 0 else np.eye(p)[0]
    rand = rand / np.maximum(1.0, np.linalg.norm(rand, axis=1, keepdims=True) / R)  # inside the ball
    contents = np.vstack([np.hstack([np.zeros((1, 3)), R * u[None, :]]), np.hstack([np.zeros((len(rand), 3)), rand])])
    r = sh.over_contents(h["Z"], h["W"], V, h["i"], h["free"], contents, limit=200)
    assert r["eps"] == pytest.approx(formula, rel=1e-9, abs=1e-12)


@given(content_heads(keys_move=False), st.floats(0.1, 3), st.data())
def test_worst_output_over_the_content_ball_is_the_closed_form(h, R, data):
    _worst_output_matches_the_closed_form(h, R, data.draw(hnp.arrays(np.float64, (4, h["p"]), elements=el)))


def test_worst_output_is_the_closed_form_when_the_squares_of_the_values_underflow():
    # found by the thorough profile: fixed tokens with entries ~4e-159, whose squares underflow; the test's own
    # unit vector came out of unit length (0.33346 against the formula's 1/3), now normalised after scaling
    t = np.array([4.01479088e-159] * 3 + [4.01479088e-161])
    h = {"Z": np.stack([t, np.zeros(4), t]), "W": np.zeros((4, 4)), "V": np.zeros((1, 4)), "i": 2, "free": [1],
         "p": 1, "n": 1}
    _worst_output_matches_the_closed_form(h, 1.0, np.zeros((4, 1)))


@given(content_heads(keys_move=False), st.floats(0.5, 3))
def test_a_switch_over_plus_minus_contents_puts_mass_at_least_one_minus_eps_over_R_on_fixed_positions(h, R):
    p = h["p"]
    V = np.hstack([np.zeros((p, 3)), np.eye(p)])
    contents = np.zeros((2, 3 + p))
    contents[0, 3], contents[1, 3] = R, -R
    r = sh.over_contents(h["Z"], h["W"], V, h["i"], h["free"], contents, limit=200)
    eps = r["eps"]
    assume(eps < R)
    assert r["deficits"].max() <= eps / R + 1e-12


def test_value_only_mass_bound_is_tight():
    h = sh.tight_values_head(eps=0.1, R=1.0, n=3)
    r = sh.over_contents(h["Z"], h["W"], h["V"], h["i"], h["free"], h["contents"])
    assert r["eps"] == pytest.approx(0.1, rel=1e-12)
    assert r["deficits"].max() == pytest.approx(switch.mass_deficit_bound(0.1, 1.0, "values"), rel=1e-12)


def test_symbolic_steps_of_the_converse_hold_exactly():
    steps = switch.symbolic_steps()
    assert all(steps.values()), steps


# ------------------------------------------------------------------ S3 (keys move with content)
# found by the thorough profile: the sink's value 2 exceeds R, but the free tokens outscore it by
# ~50, so eps = R + 1e-22 (2 - R) rounds to one ulp below R; the premise eps < R holds only by rounding
@example(dict(Z=np.array([[2.0] * 4, [0.0] * 4, [0.0] * 4, [0.0] * 4, [2.0] * 4]), W=-2 * np.ones((4, 4)),
              V=np.zeros((1, 4)), i=4, free=[1, 2, 3], p=1, n=3), np.zeros((2, 3)), 1.920490338581237)
@given(content_heads(keys_move=True), hnp.arrays(np.float64, (2, 3), elements=el), st.floats(0.5, 3))
def test_a_switch_whose_keys_move_puts_mass_at_least_one_minus_2eps_over_R_plus_eps_on_fixed_positions(h, keys, R):
    p = h["p"]
    V = np.hstack([np.zeros((p, 3)), np.eye(p)])
    contents = np.zeros((2, 3 + p))
    contents[:, :3] = keys  # z_+ and z_- have different keys
    contents[0, 3], contents[1, 3] = R, -R
    r = sh.over_contents(h["Z"], h["W"], V, h["i"], h["free"], contents, limit=200)
    eps = r["eps"]
    assume(eps < R * (1 - 1e-9))  # the premise eps < R, decided away from rounding (see the example)
    a, v, _ = sh.evaluate_head(h["Z"], h["W"], V, h["i"])
    _, vbar = switch.fixed_part(a, v, [0, h["i"]])
    homogeneous = [0, len(r["configs"]) - 1]  # all z_+, all z_-
    assert abs(vbar[0]) <= eps + 1e-12
    assert r["deficits"][homogeneous].max() <= switch.mass_deficit_bound(eps, R, "tokens") + 1e-12


@given(content_heads(keys_move=True), hnp.arrays(np.float64, (2, 3), elements=el), st.floats(0.5, 3))
def test_with_the_query_token_free_too_the_sink_alone_gets_mass_at_least_one_minus_2eps_over_R_plus_eps(h, keys, R):
    # S3 with P = {0}: every other visible token, the query's own included, is z_+ (resp. z_-), so
    # the query moves with the content as well; vbar_P = V z_0 still does not depend on it
    out = sink_alone_configs(h, R, keys)
    eps = max(np.linalg.norm(o) for _, _, o in out)
    assume(eps < R * (1 - 1e-9))  # the premise eps < R, decided away from rounding
    assert abs(out[0][1][0, 0]) <= eps + 1e-12  # |<u, V z_0>| <= eps
    assert max(1 - a[0] for a, _, _ in out) <= switch.mass_deficit_bound(eps, R, "tokens") + 1e-12


@pytest.mark.parametrize("n", [1, 2, 3])
def test_keys_that_move_with_content_break_the_value_only_bound_eps_over_R(n):
    """FINDING: f = eps/R (S2) is false when keys move; the S3 head has deficit 0.174 > 0.1."""
    h = sh.tight_tokens_head(eps=0.1, eps_prime=0.09, R=1.0, n=n)
    r = sh.over_contents(h["Z"], h["W"], h["V"], h["i"], h["free"], h["contents"])
    assert r["eps"] <= 0.1 + 1e-12
    assert r["deficits"].max() > switch.mass_deficit_bound(0.1, 1.0, "values") + 0.07  # planted f caught


@pytest.mark.parametrize("eps_prime", [0.0, 0.05, 0.099, 0.09999])
def test_tokens_bound_is_approached_by_the_construction(eps_prime):
    h = sh.tight_tokens_head(eps=0.1, eps_prime=eps_prime, R=1.0, n=2)
    r = sh.over_contents(h["Z"], h["W"], h["V"], h["i"], h["free"], h["contents"])
    g = switch.mass_deficit_bound(0.1, 1.0, "tokens")
    assert r["eps"] <= 0.1 + 1e-12
    assert r["deficits"].max() == pytest.approx((0.1 + eps_prime) / (1.0 + eps_prime), rel=1e-9) and r["deficits"].max() <= g


# ------------------------------------------------------------------ S4, counterexamples
@pytest.mark.parametrize("n, eps, R", [(1, 0.1, 1.0), (5, 0.01, 2.0), (30, 0.2, 0.5)])
def test_softmax_gap_log_n_R_minus_eps_over_eps_makes_the_worst_output_exactly_eps(n, eps, R):
    Delta = switch.softmax_gap_for_switch(eps, R, n)
    a_F = n * np.exp(-Delta) / (1 + n * np.exp(-Delta))
    assert a_F * R == pytest.approx(eps, rel=1e-12)


def test_cancellation_gives_zero_output_without_a_sink():
    h = sh.cancellation_head()
    a, _, o = sh.evaluate_head(h["Z"], h["W"], h["V"], h["i"])
    assert np.all(o == 0.0) and a[0] + a[-1] < 1e-4


def test_sink_value_cancelling_one_content_gives_zero_output_with_nonzero_sink_value():
    h = sh.sink_cancellation_head(c=2.0)
    a, v, o = sh.evaluate_head(h["Z"], h["W"], h["V"], h["i"])
    assert np.linalg.norm(o) < 1e-14 and np.linalg.norm(v[0]) == 2.0


# ------------------------------------------------------------------ invalid input
@pytest.mark.parametrize("call, name", [
    (lambda: switch.mass_deficit_bound(1.0, 1.0), "eps"),
    (lambda: switch.mass_deficit_bound(0.1, 0.0), "R"),
    (lambda: switch.mass_deficit_bound(0.1, 1.0, "keys"), "model"),
    (lambda: switch.forward_bound(1.2, 1.0, 0.0), "a_P"),
    (lambda: switch.softmax_gap_for_switch(0.0, 1.0, 2), "eps"),
    (lambda: switch.fixed_part(np.ones(3) / 3, np.ones((2, 2)), [0]), "values"),
    (lambda: switch.fixed_part(np.ones(3) / 3, np.ones((3, 2)), [3]), "fixed"),
    (lambda: sh.evaluate_head(np.full((3, 2), np.nan), np.eye(2), np.eye(2), 2), "Z"),
    (lambda: sh.evaluate_head(np.ones((3, 2)), np.eye(2), np.eye(2), 3), "i"),
    (lambda: sh.over_contents(np.ones((3, 2)), np.eye(2), np.eye(2), 2, [0], np.ones((2, 2))), "free"),
    (lambda: sh.over_contents(np.ones((3, 2)), np.eye(2), np.eye(2), 2, [1], np.ones((2, 3))), "contents"),
    (lambda: sh.tight_tokens_head(0.1, 0.2, 1.0, 2), "eps"),
])
def test_invalid_inputs_raise_naming_the_parameter(call, name):
    with pytest.raises(InvalidInputError, match=f"^{name}:"):
        call()


def test_tokens_bound_is_the_supremum_of_the_tight_heads_deficit():
    """S3: the deficit of tight_tokens_head stays below 2 eps/(R + eps) and reaches it as eps' -> eps."""
    g = switch.mass_deficit_bound(0.1, 1.0, model="tokens")
    near = sh.tight_tokens_head(0.1, 0.0999, 1.0, 2)["b_plus"]
    assert near <= g and g - near < 1e-4


# ---- further claims of Theorems S1-S4 ----------------------------------------------------------------
# (Claims of theory/switch.py that no earlier test stated (found by mutation testing, docs/testing.md):)

@pytest.mark.parametrize("R", [0.0, -1.0])
def test_softmax_gap_refuses_a_non_positive_value_norm_naming_R(R):
    with pytest.raises(InvalidInputError, match=r"^R: "):
        switch.softmax_gap_for_switch(0.1, R, 2)


def test_softmax_gap_refuses_no_free_position_naming_n():
    with pytest.raises(InvalidInputError, match=r"^n: "):
        switch.softmax_gap_for_switch(0.1, 1.0, 0)


def test_softmax_gap_refuses_eps_equal_to_R_where_no_finite_gap_exists():
    # Delta = log(n (R - eps) / eps) is -inf at eps = R: the switch needs eps < R
    with pytest.raises(InvalidInputError, match=r"^eps: must be < R = 2\.0 \(got 2\.0\)$"):
        switch.softmax_gap_for_switch(2.0, 2.0, 3)


def test_softmax_gap_is_log_of_n_times_R_minus_eps_over_eps():
    # by hand: n = 3, R = 1, eps = 1/4 gives Delta = log(3 * (3/4) / (1/4)) = log 9
    assert switch.softmax_gap_for_switch(0.25, 1.0, 3) == pytest.approx(math.log(9), rel=1e-15)


def test_the_symbolic_steps_of_S1_to_S4_have_their_report_names():
    assert set(switch.symbolic_steps()) == {"S1_attainment", "S2_sign_flip_identities", "S2_fixed_value_step",
                                            "S3_bound_step", "S3_tightness", "S4_softmax_gap"}


def test_the_value_model_bound_is_f_of_eps_equal_eps_over_R_and_the_token_model_g_is_2_eps_over_R_plus_eps():
    # Theorem S2: f(eps) = eps / R; Theorem S3: g(eps) = 2 eps / (R + eps) (by hand at eps = 0.3, R = 2)
    assert switch.mass_deficit_bound(0.3, 2.0, "values") == pytest.approx(0.15, rel=1e-15)
    assert switch.mass_deficit_bound(0.3, 2.0, "tokens") == pytest.approx(0.6 / 2.3, rel=1e-15)


@pytest.mark.parametrize("call,name", [
    (lambda: switch.mass_deficit_bound(-0.1, 1.0), "eps"),
    (lambda: switch.forward_bound(0.5, -1.0, 0.0), "R"),
    (lambda: switch.forward_bound(0.5, 1.0, -0.1), "vbar_norm"),
])
def test_a_negative_norm_or_tolerance_is_refused_naming_it(call, name):
    with pytest.raises(InvalidInputError, match=rf"^{name}: must be finite and >= 0"):
        call()


def test_fixed_part_refuses_weights_that_are_not_a_vector_and_values_that_are_not_a_matrix():
    with pytest.raises(InvalidInputError, match=r"^a: must be a 1-d array"):
        switch.fixed_part(np.full((2, 2), 0.25), np.ones((2, 3)), [0])
    with pytest.raises(InvalidInputError, match=r"^values: must be a 2-d array"):
        switch.fixed_part(np.array([0.5, 0.5]), np.ones(2), [0])


def test_fixed_part_with_no_mass_on_the_fixed_positions_has_a_zero_fixed_value():
    # a_P = 0: vbar_P is defined as 0 (no NaN), with the dimension p of the values
    a_P, vbar = switch.fixed_part(np.array([0.0, 1.0]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), [0])
    assert a_P == 0.0 and vbar.shape == (3,) and not vbar.any()
