"""Heads that refute the unrepaired forms of the trigger-task necessity claim (docs/trigger.md).

- :func:`value_offset_head` (p = 1, any T >= 2): without hypothesis (H) on the content-free part
  of the values, a single softmax head reaches any error eps > 0 with BOS attention exactly
  1/(K+1) at every non-trigger position: a large negative BOS value cancels content-free
  offsets +D/2 on the other tokens, and the trigger reads the mean of the contents from its
  attention weights.
- :func:`trigger_sink_head`: with (H), after the trigger the trigger token itself can take the
  sink's place, so "BOS >= 1 - f(eps)" fails there (BOS + trigger >= 1 - f(eps) holds).
- :func:`two_head_cancellation`: with (H) and two heads, the heads' outputs cancel at every
  non-trigger position; every BOS coefficient is small and tends to 0 as M grows (the second head parks its trigger
  query on the trigger token).  So no single-head-style sink bound holds for several heads.
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate
from sinkcheck.construct.trigger_task import BOS, CONTENT, TRIGGER, layout
from sinkcheck.construct.trigger_weights import value_reads_content_only


def value_offset_head(K: float, b: float, T: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The value-offset counterexample for p = 1 and any T >= 2 (uses the one-hot positions).

    Construction (logits written directly, scale 1; all unlisted entries 0).  Values have no
    content part: BOS -K D/2, content +D/2, trigger +D/2, with D = 4 (K + 1) / (b K).  Logits:
    W[e_i, bos] = log(S_i / K) with S_i = i - 1 + s_i, the diagonal W[e_i, e_i] = log s_i
    (s_1 = 1, s_i = i - 1 for i >= 2), and W[trigger, x] = b.

    - Content query at i without a trigger: BOS S_i/K, contents j < i weight 1, itself s_i: the
      offsets sum to (D/2)(-S_i + (i - 1) + s_i) = 0 exactly, and BOS gets exactly 1/(K+1).
    - After a trigger at t < i: the trigger key (weight 1, value +D/2) stands in for a content
      key, so the same holds.
    - Trigger query at t: BOS S_t/K, content j < t weight e^{b x_j}, itself s_t = t - 1: with
      u = mean_j e^{b x_j} the output is (D/2)(u - 1)/(2/K + u + 1), the same for every t;
      at all-equal x it is g(x) = (D/2)(e^{bx} - 1)/(2/K + e^{bx} + 1), g(0) = 0, g'(0) = 1, and
      abs(g(x) - x) = b x^2 / (2 (K + 1)) + O(b^2 abs(x)^3) -> 0 as b -> 0
      (:func:`value_offset_trigger_error` bounds the sup over the whole class).

    Args:
        K: > 0, BOS attention is 1/(K+1) at every non-trigger position.  b: > 0, the slope.
        T: tokens after BOS (>= 2).
    Returns:
        (W, V) for :func:`~sinkcheck.construct.trigger_weights.head_forward` (softmax).
    """
    K = validate.positive("K", K)
    b = validate.positive("b", b)
    lay = layout(1, validate.integer_at_least("T", T, 2), positional=True)
    D = 4 * (K + 1) / (b * K)
    W = np.zeros((lay.d, lay.d))
    for i in range(1, T + 1):
        s_i = 1.0 if i == 1 else i - 1.0
        W[lay.pos(i), lay.flag(BOS)] = np.log((i - 1 + s_i) / K)
        W[lay.pos(i), lay.pos(i)] = np.log(s_i)
    W[lay.flag(TRIGGER), 0] = b
    V = np.zeros((1, lay.d))
    V[0, lay.flag(BOS)] = -K * D / 2
    V[0, lay.flag(CONTENT)] = D / 2
    V[0, lay.flag(TRIGGER)] = D / 2
    return W, V


def value_offset_trigger_output(u: np.ndarray, K: float, b: float) -> np.ndarray:
    """(D/2)(u - 1)/(2/K + u + 1) with u = mean_j e^{b x_j}: the trigger output of
    :func:`value_offset_head` at every trigger position."""
    K = validate.positive("K", K)
    b = validate.positive("b", b)
    u = validate.finite_array("u", u)
    D = 4 * (K + 1) / (b * K)
    return D / 2 * (u - 1) / (2 / K + u + 1)


def value_offset_trigger_error(K: float, b: float, R: float, n: int = 20001) -> float:
    """An upper bound (on a grid of n means) on the trigger error of :func:`value_offset_head`
    over the whole class, for every T.

    The output is increasing in u = mean_j e^{b x_j}, and for contents in [-R, R] with mean m,
    u lies between e^{b m} (Jensen) and the two-point value ((R + m) e^{bR} + (R - m) e^{-bR})/(2R)
    (convexity), so the error abs(output - m) is largest at one of these two ends.
    """
    R = validate.positive("R", R)
    n = validate.integer_at_least("n", n, 3)
    m = np.linspace(-R, R, n)
    u_lo = np.exp(b * m)
    u_hi = ((R + m) * np.exp(b * R) + (R - m) * np.exp(-b * R)) / (2 * R)
    return float(max(np.abs(value_offset_trigger_output(u, K, b) - m).max() for u in (u_lo, u_hi)))


def trigger_sink_head(p: int, T: int, L: float, a: float) -> tuple[np.ndarray, np.ndarray]:
    """The sink head of :func:`~sinkcheck.construct.trigger_weights.softmax_sink_head`, plus
    logit L + a from content queries to a trigger key: after the trigger, BOS gets
    e^L / (e^L + e^{L+a} + i - 1) < 1/(1 + e^a) while the error is unchanged (the trigger's value
    is 0 under (H), and the content mass only falls)."""
    lay = layout(p, T, positional=False)
    L = validate.finite_array("L", L, ndim=0).item()
    a = validate.finite_array("a", a, ndim=0).item()
    W = np.zeros((lay.d, lay.d))
    W[lay.flag(CONTENT), lay.flag(BOS)] = L
    W[lay.flag(CONTENT), lay.flag(TRIGGER)] = L + a
    W[lay.flag(TRIGGER), lay.flag(CONTENT)] = L
    return W, value_reads_content_only(p, lay)


def two_head_cancellation(p: int, T: int, M: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two softmax heads, values +x and -x, with no BOS sink anywhere (no positions needed).

    Both heads' content queries give BOS logit -M and every other key 0: identical attention,
    so the outputs cancel exactly at every non-trigger position.  Head 1's trigger query gives
    BOS and itself -M (mass on content m_1 -> 1); head 2's gives BOS -M and itself +M (mass on
    content m_2 -> 0).  The trigger output is (m_1 - m_2) times the exact mean, so the error is at
    most R ((1 - m_1) + m_2) <= R (2 e^{-M} / (1 + 2 e^{-M}) + (T - 1) / (T - 1 + e^M)).
    """
    lay = layout(p, T, positional=False)
    M = validate.finite_array("M", M, ndim=0).item()
    heads = []
    for sign, self_logit in ((1.0, -M), (-1.0, M)):
        W = np.zeros((lay.d, lay.d))
        W[lay.flag(CONTENT), lay.flag(BOS)] = -M
        W[lay.flag(TRIGGER), lay.flag(BOS)] = -M
        W[lay.flag(TRIGGER), lay.flag(TRIGGER)] = self_logit
        heads.append((W, value_reads_content_only(p, lay, sign)))
    return heads


def two_head_error_bound(T: int, R: float, M: float) -> float:
    """R (2 e^{-M} / (1 + 2 e^{-M}) + (T - 1) / (T - 1 + e^M)), the error bound of :func:`two_head_cancellation`."""
    T = validate.integer_at_least("T", T, 2)
    R = validate.positive("R", R)
    M = validate.finite_array("M", M, ndim=0).item()
    return float(R * (2 * np.exp(-M) / (1 + 2 * np.exp(-M)) + (T - 1) / (T - 1 + np.exp(M))))
