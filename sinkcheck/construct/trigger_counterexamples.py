"""Heads that refute the unrepaired forms of the trigger-task necessity claim (THEOREMS.md s. 5).

- :func:`value_offset_head` (p = 1, T = 2): without hypothesis (H) on the content-free part of
  the values, a single softmax head reaches any error eps > 0 with BOS attention exactly
  1/(K+1) at every non-trigger position: a large negative BOS value cancels content-free
  offsets +D/2 on the other tokens, and the trigger reads x_1 from its attention weights.
- :func:`trigger_sink_head`: with (H), after the trigger the trigger token itself can take the
  sink's place, so "BOS >= 1 - f(eps)" fails there (BOS + trigger >= 1 - f(eps) holds).
- :func:`two_head_cancellation`: with (H) and two heads, the heads' outputs cancel at every
  non-trigger position; no head attends to BOS anywhere (the second head parks its trigger
  query on the trigger token).  So no single-head-style sink bound holds for several heads.
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate
from sinkcheck.construct.trigger_task import BOS, CONTENT, TRIGGER, layout
from sinkcheck.construct.trigger_weights import value_reads_content_only


def value_offset_head(K: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """The value-offset counterexample for p = 1, T = 2 (uses the one-hot positions).

    Construction (logits written directly, scale 1).  Values: V z = 0 x + (content-free part),
    with BOS -K D/2, content +D/2, trigger +D/2, D = 4 (K + 1) / (b K).  Content query at
    position i: BOS logit log(i/K) (entry W[e_i, bos]), every other key 0, so BOS gets exactly
    i/K / (i/K + i) = 1/(K+1) and the output is (D/2) (-K i/K + i) / Z = 0 exactly.  Trigger
    query at t = 2: BOS logit log(2/K) (the same entry), content key b x_1 (entry W[trigger, x]),
    itself 0, so o_2 = g(x_1) = (D/2) (e^{b x_1} - 1) / (2/K + e^{b x_1} + 1), with g(0) = 0 and
    g'(0) = 1; the error abs(g(x) - x) = b x^2 / (2 (K + 1)) + O(b^2 abs(x)^3) -> 0 as b -> 0
    (:func:`value_offset_trigger_error` computes the sup).

    Args:
        K: > 0, BOS attention is 1/(K+1) at every non-trigger position.  b: > 0, the slope.
    Returns:
        (W, V) for :func:`~sinkcheck.construct.trigger_weights.head_forward` (softmax).
    """
    K = validate.positive("K", K)
    b = validate.positive("b", b)
    lay = layout(1, 2, positional=True)
    D = 4 * (K + 1) / (b * K)
    W = np.zeros((lay.d, lay.d))
    for i in (1, 2):
        W[lay.pos(i), lay.flag(BOS)] = np.log(i / K)
    W[lay.flag(TRIGGER), 0] = b
    V = np.zeros((1, lay.d))
    V[0, lay.flag(BOS)] = -K * D / 2
    V[0, lay.flag(CONTENT)] = D / 2
    V[0, lay.flag(TRIGGER)] = D / 2
    return W, V


def value_offset_trigger_output(x: np.ndarray, K: float, b: float) -> np.ndarray:
    """g(x) = (D/2)(e^{bx} - 1)/(2/K + e^{bx} + 1), the trigger output of :func:`value_offset_head`."""
    K = validate.positive("K", K)
    b = validate.positive("b", b)
    x = validate.finite_array("x", x)
    D = 4 * (K + 1) / (b * K)
    e = np.exp(b * x)
    return D / 2 * (e - 1) / (2 / K + e + 1)


def value_offset_trigger_error(K: float, b: float, R: float, n: int = 20001) -> float:
    """The max of abs(g(x) - x) over abs(x) <= R, on a grid of n points (the only error of the head; T = 2, p = 1)."""
    R = validate.positive("R", R)
    n = validate.integer_at_least("n", n, 3)
    x = np.linspace(-R, R, n)
    return float(np.abs(value_offset_trigger_output(x, K, b) - x).max())


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
