"""Hypothesis strategies for the suite's instances, for property-testing bounds of your own.

Each strategy draws the objects one of the papers' claims is about, covering the regimes where the
stated results fail as well as those where they hold (docs: "Check your own bound"):

- :func:`sec7_arguments` / :func:`sec7_instances`: Section 7 instances of Súkeník et al. (lam far
  below and above 1, H1 and H2 on and off, with and without the fallback constraints);
- :func:`sink_problems`: token sets and queries for Prop. 4.1, shaped so that both sides of its exact
  condition occur (:data:`sinkcheck.construct.sink_lp.PROBLEM_KINDS`);
- :func:`smoothing_models` and :func:`generic_smoothing_models`: the smoothing model of Section 5;
- :func:`trigger_batches`: seeded batches of the trigger-conditional task of Ran-Milo;
- :func:`attention_scores` and :func:`extra_logits`: score matrices with causal or random masks and
  extreme entries (+-1000), and the extra logits s of the operations of :mod:`sinkcheck.variants`.

The suite's own property tests draw from these, so a bound of yours meets the same instances.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.construct import sink_lp
from sinkcheck.construct import smoothing_model as sm
from sinkcheck.construct import trigger_task as tt
from sinkcheck.construct.sinkdiag.instance import sample_instance
from sinkcheck.construct.sinkdiag.params import SEC7_LAMBDAS, draw_arguments
from sinkcheck.construct.sink_lp import PROBLEM_KINDS, shape_problem

SEC7_KAPPAS = (0.5, 1.0, 3.0)
"""The kappa values drawn for Section 7."""


class _DrawPicker:
    """The :class:`~sinkcheck.construct.sinkdiag.params.Picker` of a Hypothesis ``draw``: each
    coordinate is its own Hypothesis draw, so a failure shrinks coordinate by coordinate."""

    def __init__(self, draw):
        self.draw = draw

    def choice(self, options):
        return self.draw(st.sampled_from(options))

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def boolean(self) -> bool:
        return self.draw(st.booleans())


@st.composite
def sec7_arguments(draw, lam_min: float = 0.0, lam_max: float = float("inf"), h1: bool | None = None,
                   h2: bool | None = None, C_values: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12)):
    """Arguments of :func:`~sinkcheck.construct.sinkdiag.instance.sample_instance` and whether the
    fallback constraints are imposed, drawn by the suite's one sampler of the Section 7 space
    (:func:`~sinkcheck.construct.sinkdiag.params.draw_arguments`, each coordinate a Hypothesis draw):
    C from ``C_values``, lam from :data:`~sinkcheck.construct.sinkdiag.params.SEC7_LAMBDAS` within
    [lam_min, lam_max], kappa from :data:`SEC7_KAPPAS`; ``h1`` / ``h2`` fix the centred nuisance
    (H1) and equal nuisance norms (H2), None draws both ways."""
    lambdas = tuple(v for v in SEC7_LAMBDAS if lam_min <= v <= lam_max)
    return draw_arguments(_DrawPicker(draw), C_values, lambdas, SEC7_KAPPAS, h1, h2), draw(st.booleans())


def sec7_instances(**kwargs):
    """(instance, fallback) pairs built from :func:`sec7_arguments` (same keyword arguments)."""
    return sec7_arguments(**kwargs).map(lambda a: (sample_instance(**a[0]), a[1]))


HALF_INTEGERS = st.integers(-6, 6).map(lambda k: k / 2)
"""Token coordinates for Prop. 4.1, half-integers, so that degenerate configurations are exact."""


@st.composite
def sink_problems(draw, kinds: tuple[str, ...] = PROBLEM_KINDS, max_d: int = 4, max_T: int = 7):
    """(Z, J, mask, kind): embeddings z_0..z_T (rows of Z, none zero), queries J, a mask of
    :data:`sinkcheck.construct.sink_lp.MASKS`, shaped by ``kind`` so that both sides of Theorem G
    occur (sink_in_hull: z_0 a convex combination of keys; antipodal_queries: two queries
    z_k = -z_i; equal_norms: rows on the unit sphere; anisotropic: a common mean direction)."""
    kind = draw(st.sampled_from(kinds))
    d, T = draw(st.integers(2, max_d)), draw(st.integers(2, max_T))
    Z = draw(hnp.arrays(np.float64, (T + 1, d), elements=HALF_INTEGERS))
    Z[np.linalg.norm(Z, axis=1) == 0] += 1.0  # no zero tokens
    mask = draw(st.sampled_from(sink_lp.MASKS))
    J = sorted(draw(st.sets(st.integers(1, T), min_size=1, max_size=T)))
    w = draw(hnp.arrays(np.float64, (T,), elements=st.integers(1, 4).map(float)))
    Z, J = shape_problem(Z, J, kind, w)
    return Z, J, mask, kind


SMOOTHING_ELEMENTS = st.floats(-2, 2, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def smoothing_models(draw, max_d: int = 3, max_k: int = 5):
    """Valid models of Section 5 with entries in [-2, 2]: B = G G^T of any rank (0 included),
    Sigma_x = beta^2 B + P P^T (so the joint covariance is PSD), any W, beta and means."""
    el = SMOOTHING_ELEMENTS
    d, k = draw(st.integers(1, max_d)), draw(st.integers(2, max_k))
    rank = draw(st.integers(0, d))
    G = draw(hnp.arrays(np.float64, (d, max(rank, 1)), elements=el)) * (rank > 0)
    P = draw(hnp.arrays(np.float64, (d, d), elements=el))
    W = draw(hnp.arrays(np.float64, (d, d), elements=el))
    beta = draw(el)
    mu_x, mu_z = draw(hnp.arrays(np.float64, d, elements=el)), draw(hnp.arrays(np.float64, d, elements=el))
    B = G @ G.T
    return sm.make_model(B, W, beta, beta**2 * B + P @ P.T, k, mu_x, mu_z)


@st.composite
def generic_smoothing_models(draw, max_d: int = 4, max_k: int = 6):
    """Models from a seeded generator (:func:`~sinkcheck.construct.smoothing_model.sample_model`):
    generic, with mean and W scales varied so that both of the paper's conditions and neither occur."""
    seed, d, k = draw(st.integers(0, 2**31 - 1)), draw(st.integers(1, max_d)), draw(st.integers(2, max_k))
    mean_scale, W_scale = draw(st.sampled_from([0.0, 0.3, 1.0, 3.0])), draw(st.sampled_from([0.3, 1.0, 3.0]))
    return sm.sample_model(np.random.default_rng(seed), d, k, mean_scale=mean_scale, W_scale=W_scale)


@st.composite
def trigger_batches(draw, max_T: int = 9, max_p: int = 4, B: int = 8):
    """Seeded batches of the trigger task (:func:`~sinkcheck.construct.trigger_task.sample_batch`):
    ``B`` sequences of length T in 2..max_T, content dimension p in 1..max_p, radius R in [0.1, 5]."""
    seed, T, p = draw(st.integers(0, 10**6)), draw(st.integers(2, max_T)), draw(st.integers(1, max_p))
    R = draw(st.floats(0.1, 5.0))
    return tt.sample_batch(seed, B, T, p, R)


EXTREME_SCORES = (-1000.0, -999.5, -745.0, -40.0, -1.0, 0.0, 1e-9, 1.0, 40.0, 745.0, 999.5, 1000.0)
"""Scores at the ends of the range the attention operations promise (+-1000) and where e^x leaves float64."""

SCORE_MASKS = ("full", "causal", "random")
"""The masks :func:`attention_scores` draws: every key, j <= i (queries last), any with a key per row."""


def score_elements(nonnegative: bool = False):
    """One score: moderate (in [-30, 30]), anywhere in [-1000, 1000], or one of :data:`EXTREME_SCORES`
    (their absolute values for ``nonnegative``, the kernel scores of linear attention)."""
    lo = 0.0 if nonnegative else -1000.0
    extremes = sorted({abs(v) for v in EXTREME_SCORES}) if nonnegative else EXTREME_SCORES
    return st.one_of(st.floats(max(lo, -30.0), 30.0), st.floats(lo, 1000.0), st.sampled_from(extremes))


@st.composite
def attention_scores(draw, max_T: int = 6, nonnegative: bool = False, batch: bool = True):
    """(S, mask, kind): scores S of shape (T_q, T_k) or (B, T_q, T_k) (B <= 2, T_q <= T_k <= max_T,
    so rectangular rows occur) from :func:`score_elements`, and a boolean (T_q, T_k) mask of
    :data:`SCORE_MASKS` (causal: query i is position T_k - T_q + i) under which every query sees a key."""
    T_k = draw(st.integers(1, max_T))
    T_q = draw(st.integers(1, T_k))
    shape = ((draw(st.integers(1, 2)),) if batch and draw(st.booleans()) else ()) + (T_q, T_k)
    S = draw(hnp.arrays(np.float64, shape, elements=score_elements(nonnegative)))
    kind = draw(st.sampled_from(SCORE_MASKS))
    if kind == "full":
        mask = np.ones((T_q, T_k), dtype=bool)
    elif kind == "causal":
        mask = np.tri(T_q, T_k, T_k - T_q, dtype=bool)
    else:
        mask = draw(hnp.arrays(np.bool_, (T_q, T_k)))
        mask[np.arange(T_q), draw(hnp.arrays(np.int64, T_q, elements=st.integers(0, T_k - 1)))] = True
    return S, mask, kind


def extra_logits(shape: tuple[int, ...]):
    """An extra logit s for scores of leading shape ``shape`` (``S.shape[:-1]``): one number, or one
    per query row (a key bias's q . k_s), each from :func:`score_elements`."""
    return st.one_of(score_elements(), hnp.arrays(np.float64, shape, elements=score_elements()))
