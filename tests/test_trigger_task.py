"""The trigger-task generator: each test is a claim about the data the theorems quantify over."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sinkcheck.construct import trigger_task as tt
from sinkcheck.errors import InvalidInputError


def reference_targets(X, trigger):
    """Targets recomputed by plain loops (independent of encode)."""
    B, T, p = X.shape
    Y = np.zeros((B, T + 1, p))
    for b in range(B):
        t = trigger[b]
        if t > 0:
            Y[b, t] = sum(X[b, j - 1] for j in range(1, t)) / (t - 1)
    return Y


@given(st.integers(0, 10**6), st.integers(2, 9), st.integers(1, 4))
def test_targets_are_the_mean_of_preceding_content_at_the_trigger_and_zero_elsewhere(seed, T, p):
    batch = tt.sample_batch(seed, 8, T, p, 1.5)
    X = batch.Z[:, 1:, :p]
    np.testing.assert_allclose(batch.Y, reference_targets(X, batch.trigger), atol=1e-12)


@given(st.integers(0, 10**6), st.floats(0.1, 5.0))
def test_content_vectors_lie_in_the_ball_of_radius_R_and_bos_and_trigger_carry_none(seed, R):
    batch = tt.sample_batch(seed, 16, 6, 3, R)
    norms = np.linalg.norm(batch.Z[..., :3], axis=-1)
    assert norms.max() <= R * (1 + 1e-12)
    assert np.all(norms[batch.types != tt.CONTENT] == 0)


def test_each_token_has_exactly_one_type_flag_and_one_position():
    batch = tt.sample_batch(3, 32, 7, 2)
    lay = batch.lay
    flags = batch.Z[..., lay.flag(tt.BOS):lay.flag(tt.TRIGGER) + 1]
    assert np.all(flags.sum(-1) == 1) and np.all(flags.argmax(-1) == batch.types)
    assert np.all(batch.Z[..., lay.p + 3:].argmax(-1) == np.arange(8)[None, :])


def test_triggers_sit_in_positions_2_to_T_at_most_once_and_both_cases_occur():
    batch = tt.sample_batch(0, 400, 5, 2, trigger_prob=0.5)
    counts = batch.is_trigger.sum(-1)
    assert set(counts.tolist()) == {0, 1}
    assert set(batch.trigger[batch.trigger > 0].tolist()) == {2, 3, 4, 5}


def test_same_seed_gives_the_same_batch_and_another_seed_does_not():
    a, b, c = tt.sample_batch(7, 4, 5, 2), tt.sample_batch(7, 4, 5, 2), tt.sample_batch(8, 4, 5, 2)
    assert np.array_equal(a.Z, b.Z) and np.array_equal(a.trigger, b.trigger)
    assert not np.array_equal(a.Z, c.Z)


def test_equal_content_probes_cover_no_trigger_and_every_trigger_position():
    batch = tt.equal_content_batch(np.array([0.6, -0.8]), 4)
    assert batch.trigger.tolist() == [-1, 2, 3, 4]
    np.testing.assert_allclose(batch.Y[np.arange(1, 4), [2, 3, 4]], [[0.6, -0.8]] * 3)


def test_positionless_layout_has_width_p_plus_3():
    assert tt.sample_batch(0, 2, 4, 3, positional=False).Z.shape == (2, 5, 6)


@pytest.mark.parametrize("kwargs, name", [
    ({"T": 1}, "T"), ({"T": 0}, "T"), ({"p": 0}, "p"), ({"R": 0.0}, "R"), ({"R": -1.0}, "R"),
    ({"R": float("nan")}, "R"), ({"B": 0}, "B"), ({"trigger_prob": 1.5}, "trigger_prob"),
])
def test_invalid_generator_arguments_raise_naming_the_parameter(kwargs, name):
    args = {"seed": 0, "B": 2, "T": 4, "p": 2, "R": 1.0, **kwargs}
    with pytest.raises(InvalidInputError, match=rf"^{name}:"):
        tt.sample_batch(**args)


def test_encode_rejects_trigger_at_position_1_and_non_finite_content():
    lay = tt.layout(2, 3)
    with pytest.raises(InvalidInputError, match="^trigger:"):
        tt.encode(np.zeros((1, 3, 2)), np.array([1]), lay)
    with pytest.raises(InvalidInputError, match="^X:"):
        tt.encode(np.full((1, 3, 2), np.inf), np.array([-1]), lay)


def test_content_radii_are_those_of_the_uniform_distribution_on_the_ball():
    # uniform in the ball of radius R in R^p  <=>  (|x| / R)^p is uniform on [0, 1], direction uniform
    from scipy import stats
    p, R = 3, 2.0
    x = tt.sample_content(np.random.default_rng(0), (4000,), p, R)
    u = (np.linalg.norm(x, axis=-1) / R) ** p
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert np.abs(x.mean(axis=0)).max() < 4 * R / np.sqrt(4000)  # 4 standard errors of a mean, |x_k| <= R


def test_a_batch_of_one_sequence_is_allowed():
    assert tt.sample_batch(0, 1, 3, 2).Z.shape[0] == 1


def test_a_wider_position_one_hot_keeps_each_token_at_its_own_position():
    batch = tt.sample_batch(1, 4, 3, 2, n_pos=7)
    assert batch.lay == tt.Layout(p=2, n_pos=7) and batch.Z.shape == (4, 4, 2 + 3 + 7)
    assert np.all(batch.Z[..., 5:].argmax(-1) == np.arange(4)) and np.all(batch.Z[..., 5:].sum(-1) == 1)
    assert tt.sample_batch(1, 4, 3, 2, n_pos=4).Z.shape == (4, 4, 2 + 3 + 4)  # n_pos = T + 1 is enough
    with pytest.raises(InvalidInputError, match=r"^n_pos: must be an integer >= 4"):
        tt.sample_batch(1, 4, 3, 2, n_pos=3)


def test_probe_sequences_carry_positions_unless_asked_not_to():
    assert tt.equal_content_batch(np.array([1.0]), 3).Z.shape == (3, 4, 1 + 3 + 4)
    assert tt.equal_content_batch(np.array([1.0]), 3, positional=False).Z.shape == (3, 4, 1 + 3)


def test_positions_0_to_n_pos_minus_1_have_columns_and_others_are_refused_by_range():
    lay = tt.layout(2, 3)  # n_pos = 4: columns 5..8
    assert [lay.pos(j) for j in range(4)] == [5, 6, 7, 8]
    for j in (-1, 4):
        with pytest.raises(InvalidInputError, match=rf"^j: must be a position in \[0, 3\] \(got {j}\)$"):
            lay.pos(j)


@pytest.mark.parametrize("call, name, rule", [
    (lambda: tt.equal_content_batch(np.ones((2, 2)), 3), "x", "1-d array"),
    (lambda: tt.equal_content_batch(np.array([np.nan]), 3), "x", "finite"),
    (lambda: tt.equal_content_batch(np.array([1.0]), 1), "T", ">= 2"),
])
def test_bad_probe_arguments_raise_naming_the_parameter(call, name, rule):
    with pytest.raises(InvalidInputError, match=rf"^{name}: .*{rule}"):
        call()


def test_a_layout_for_one_token_after_bos_has_two_positions():
    assert tt.layout(2, 1) == tt.Layout(p=2, n_pos=2)
    with pytest.raises(InvalidInputError, match=r"^T: must be an integer >= 1"):
        tt.layout(2, 0)


def test_trigger_positions_may_come_as_a_column_or_as_whole_floats():
    lay = tt.layout(1, 3)
    X = np.arange(6.0).reshape(2, 3, 1)
    want = tt.encode(X, np.array([2, -1]), lay)
    for trigger in ([[2], [-1]], np.array([2.0, -1.0])):
        got = tt.encode(X, trigger, lay)
        assert np.array_equal(got.Z, want.Z) and np.array_equal(got.Y, want.Y)


@pytest.mark.parametrize("X, trigger, lay, message", [
    (np.zeros((3, 2)), [-1], tt.layout(2, 3), r"^X: must be a 3-d array"),
    (np.zeros((1, 3, 3)), [-1], tt.layout(2, 3), r"^X: must have p = 2 columns \(got shape \(1, 3, 3\)\)$"),
    (np.zeros((1, 3, 2)), [-1], tt.Layout(p=2, n_pos=3), r"^lay: needs at least 4 positions \(got n_pos = 3\)$"),
    (np.zeros((2, 3, 2)), [-1], tt.layout(2, 3), r"^trigger: must have shape \(2,\) \(got shape \(1,\)\)$"),
])
def test_encode_refuses_inconsistent_shapes_with_the_rule_and_the_numbers(X, trigger, lay, message):
    with pytest.raises(InvalidInputError, match=message):
        tt.encode(X, trigger, lay)
