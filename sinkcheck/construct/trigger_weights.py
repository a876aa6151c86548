"""Explicit heads for the trigger task (docs/trigger.md), run with the numpy core.

A head is a pair (W, V): logits s_ij = z_i^T W z_j (scale 1: every construction here writes its
logits directly, so ``scale=1.0`` is passed to :func:`sinkcheck.core.attention.scores`; the
weights for the core's default 1/sqrt(d) are sqrt(d) W) and values V z_j in R^p.  Rows of W are
query features and columns key features, in the layout of
:mod:`sinkcheck.construct.trigger_task`.

- :func:`softmax_sink_head`: a softmax head with a BOS sink; its error on the input class is
  exactly R T / (e^L + T) for sink logit L (:func:`sink_head_error`), so error eps needs
  L = log(T (R - eps) / eps) (:func:`sink_logit`).
- :func:`tight_head`: the softmax head that makes the necessity bound f(eps) = eps / (R - eps)
  tight (content mass (1 - delta) f(eps) at error exactly eps).
- :func:`relu_exact_head`: a ReLU head (plain or length-normalised) with error exactly 0 and
  attention exactly 0 on BOS everywhere; it uses the one-hot positions.
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate
from sinkcheck.construct.trigger_task import BOS, CONTENT, TRIGGER, Layout, TriggerBatch, layout
from sinkcheck.core import attention as att
from sinkcheck.theory.trigger import relu_exact_knobs


def _check_head(W: np.ndarray, V: np.ndarray, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    W = validate.finite_array("W", W, shape=(lay.d, lay.d))
    V = validate.finite_array("V", V, shape=(lay.p, lay.d))
    return W, V


def head_forward(batch: TriggerBatch, W: np.ndarray, V: np.ndarray, kind: str = "softmax",
                 normalise: str = "length") -> tuple[np.ndarray, np.ndarray]:
    """Outputs and attention of one causal head on a batch.

    Args:
        batch: a :class:`~sinkcheck.construct.trigger_task.TriggerBatch`.  W, V: logit and value matrices, shapes (d, d), (p, d).
        kind: softmax, relu or sigmoid.  normalise: for ReLU, "length" or "none".
    Returns:
        The outputs O, shape (B, T+1, p), and the attention A, shape (B, T+1, T+1).
    Raises:
        InvalidInputError: on non-finite weights or shapes that do not fit the layout.
    """
    W, V = _check_head(W, V, batch.lay)
    validate.choice("kind", kind, att.KINDS)
    S = att.scores(batch.Z, batch.Z, W, scale=1.0)
    mask = att.causal_mask(S.shape[-1])
    A = att.relu_attention(S, mask, normalise) if kind == "relu" else att.attention(S, kind, mask)
    return att.head_output(A, batch.Z, V), A


def multi_head_forward(batch: TriggerBatch, heads: list[tuple[np.ndarray, np.ndarray]],
                       kind: str = "softmax") -> tuple[np.ndarray, np.ndarray]:
    """Sum of the heads' outputs (the multi-head model of docs/trigger.md).

    Returns:
        The summed outputs O and the attention A of every head, shape (H, B, T+1, T+1).
    """
    if not heads:
        raise validate.InvalidInputError("heads: must not be empty (got [])")
    outs = [head_forward(batch, W, V, kind) for W, V in heads]
    return sum(o for o, _ in outs), np.stack([a for _, a in outs])


def position_errors(batch: TriggerBatch, O: np.ndarray) -> np.ndarray:
    """||o_i - y_i|| per position, shape (B, T+1), with 0 on the unscored BOS row."""
    O = validate.finite_array("O", O, shape=batch.Y.shape)
    return np.where(batch.scored, np.linalg.norm(O - batch.Y, axis=-1), 0.0)


def sup_error(batch: TriggerBatch, O: np.ndarray) -> float:
    """The error measure of the theorems: max over sequences and positions 1..T of ||o_i - y_i||."""
    return float(position_errors(batch, O).max())


def value_reads_content_only(p: int, lay: Layout, scale: float = 1.0) -> np.ndarray:
    """V = [scale I_p, 0]: the value of z_j is scale x_j (hypothesis (H): no content-free part)."""
    V = np.zeros((p, lay.d))
    V[:, :p] = scale * np.eye(p)
    return V


def sink_head_error(T: int, R: float, L: float) -> float:
    """The exact sup error R T / (e^L + T) of :func:`softmax_sink_head` with sink logit L."""
    T = validate.integer_at_least("T", T, 2)
    R = validate.positive("R", R)
    L = validate.finite_array("L", L, ndim=0).item()
    return float(R * T / (np.exp(L) + T))


def sink_logit(T: int, R: float, eps: float) -> float:
    """The sink logit L = log(T (R - eps) / eps) at which :func:`softmax_sink_head` has error eps.

    Raises:
        InvalidInputError: unless T >= 2, R > 0 and 0 < eps < R.
    """
    T = validate.integer_at_least("T", T, 2)
    R = validate.positive("R", R)
    eps = validate.positive("eps", eps)
    if eps >= R:
        raise validate.InvalidInputError(f"eps: must be < R = {R} (got {eps!r})")
    return float(np.log(T * (R - eps) / eps))


def softmax_sink_head(p: int, T: int, L: float, positional: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A softmax head with a BOS sink of logit L (no positional information used).

    Margin walk-through.  Content queries give BOS logit L and every other key 0, so at a
    non-trigger position i the content mass is at most i / (e^L + i) <= T / (e^L + T) and, with
    V z = x, ||o_i|| <= R T / (e^L + T), with equality at i = T for ||x_j|| = R all equal.
    The trigger query gives its content keys logit L and BOS and itself 0, so its output is
    (t-1) e^L / ((t-1) e^L + 2) times the exact mean; the error 2 R / ((t-1) e^L + 2) is at most
    R T / (e^L + T).  Hence the sup error is exactly R T / (e^L + T) (:func:`sink_head_error`).

    Args:
        p: content dimension.  T: tokens after BOS (>= 2).  L: the sink logit (finite).
        positional: whether the encoding has the one-hot positions (unused by the head).
    Returns:
        (W, V) for :func:`head_forward` with kind "softmax".
    """
    lay = layout(p, T, positional)
    L = validate.finite_array("L", L, ndim=0).item()
    W = np.zeros((lay.d, lay.d))
    W[lay.flag(CONTENT), lay.flag(BOS)] = L  # content queries: the sink
    W[lay.flag(TRIGGER), lay.flag(CONTENT)] = L  # trigger query: the content keys
    return W, value_reads_content_only(p, lay)


def tight_head(p: int, T: int, R: float, eps: float, delta: float,
               positional: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """A softmax head with sup error exactly eps whose content mass at (i = T, no trigger) is
    (1 - delta) f(eps), f(eps) = eps / (R - eps): the necessity bound is tight as delta -> 0.

    Margin walk-through.  The trigger query gives BOS and itself logit a and its content keys 0,
    so a fraction delta_t = 2 e^a / (2 e^a + t - 1) of its mass leaves the content; a is chosen
    so that delta_2 = delta.  With V = c I and c = (1 - eps/R) / (1 - delta), the trigger error
    abs(1 - (1 - delta_t) c) ||mean x|| is at most eps (equality at t = 2, ||mean x|| = R) provided
    c <= 1, i.e. delta <= eps / R.  Content queries give BOS logit L with T / (e^L + T) = m :=
    eps / (c R), so the non-trigger error m c R = eps is reached at i = T, and the content mass
    there is m = (1 - delta) eps / (R - eps).

    Args:
        p, T: as in :func:`softmax_sink_head`.  R: content radius.  eps: target error, 0 < eps < R/2.
        delta: in (0, eps/R], the trigger query's leak at t = 2.
    Returns:
        (W, V, m) with m the content mass at i = T without trigger.
    """
    lay = layout(p, T, positional)
    R = validate.positive("R", R)
    eps = validate.positive("eps", eps)
    if eps >= R / 2:
        raise validate.InvalidInputError(f"eps: must be < R/2 = {R / 2} (got {eps!r})")
    delta = validate.positive("delta", delta)
    if delta > eps / R:
        raise validate.InvalidInputError(f"delta: must be <= eps/R = {eps / R} (got {delta!r})")
    a = np.log(delta / (2 * (1 - delta)))  # 2 e^a / (2 e^a + 1) = delta
    c = (1 - eps / R) / (1 - delta)
    m = eps / (c * R)
    L = np.log(T * (1 - m) / m)  # T / (e^L + T) = m
    W = np.zeros((lay.d, lay.d))
    W[lay.flag(CONTENT), lay.flag(BOS)] = L
    W[lay.flag(TRIGGER), lay.flag(BOS)] = a
    W[lay.flag(TRIGGER), lay.flag(TRIGGER)] = a
    return W, value_reads_content_only(p, lay, c), float(m)


def relu_exact_head(p: int, T: int, normalise: str = "length") -> tuple[np.ndarray, np.ndarray]:
    """A ReLU head that solves the task exactly with zero attention on BOS (needs positions).

    Margin walk-through, with the knobs (k, B) of :func:`~sinkcheck.theory.trigger.relu_exact_knobs`.
    Query-position x key-content entries W[e_t, content] = k_t and W[content, content] = -B:
    - trigger query at t on content key j < t: score k_t, weight k_t / n_t = 1/(t-1): the mean;
    - content query at i on content key: score k_i - B <= 0, weight 0;
    - every query on BOS or on a trigger key: score 0, weight 0.
    So non-trigger outputs are exactly 0 (every weight is 0, BOS included) and trigger outputs
    are exactly the mean of x_1..x_{t-1}, with V z = x.

    Args:
        p: content dimension.  T: tokens after BOS (>= 2).  normalise: "length" or "none".
    Returns:
        (W, V) for :func:`head_forward` with kind "relu" and the same ``normalise``.
    """
    k, B = relu_exact_knobs(T, normalise)
    lay = layout(p, T, positional=True)
    t = np.array(list(k))
    W = np.zeros((lay.d, lay.d))
    W[lay.p + 3 + t, lay.flag(CONTENT)] = [float(k_t) for k_t in k.values()]
    W[lay.flag(CONTENT), lay.flag(CONTENT)] = -float(B)
    return W, value_reads_content_only(p, lay)


def relu_positionless_head(p: int, T: int, normalise: str = "length") -> tuple[np.ndarray, np.ndarray]:
    """A position-free ReLU head whose error at T = 3 is exactly the lower bound R/5 (length) or
    R/3 (plain) of Theorem 4(b): that bound is tight at T = 3.

    Margin walk-through.  With n_t the normaliser at a trigger in position t (t + 1 or 1), the
    trigger query scores every content key k, so its output is (t - 1) k / n_t times the mean.
    Content queries score content keys -1 < 0, and BOS and triggers 0, so they are off.
    k = 2 / (1/n_2 + 2/n_3) equalises the errors 1 - k/n_2 and 2k/n_3 - 1 at t = 2, 3, both equal
    to (2 n_2 - n_3)/(2 n_2 + n_3) times the norm of the mean (at most R).

    Args:
        p: content dimension.  T: tokens after BOS (>= 2).  normalise: "length" or "none".
    Returns:
        (W, V) for :func:`head_forward` with kind "relu" and the same ``normalise``.
    """
    validate.choice("normalise", normalise, ("length", "none"))
    lay = layout(p, T, positional=False)
    n2, n3 = (3.0, 4.0) if normalise == "length" else (1.0, 1.0)
    k = 2.0 / (1.0 / n2 + 2.0 / n3)
    W = np.zeros((lay.d, lay.d))
    W[lay.flag(TRIGGER), lay.flag(CONTENT)] = k
    W[lay.flag(CONTENT), lay.flag(CONTENT)] = -1.0  # content queries: off
    return W, value_reads_content_only(p, lay)


def relu_preceding_head(p: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """A position-free ReLU head that solves the task exactly with zero attention on BOS, under the
    normaliser n_t = t - 1 ("preceding", :data:`sinkcheck.core.attention.RELU_NORMALISERS`), for which
    Theorem 4(b)'s bound R abs(2 n_2 - n_3) / (2 n_2 + n_3) is 0.

    Margin walk-through: W[trigger, content] = 1 and W[content, content] = -1.
    - trigger query at t on each of its t - 1 content keys: score 1, weight 1 / (t - 1): the mean;
    - content query on a content key: score -1, weight 0;
    - every query on BOS or on a trigger key: score 0, weight 0.
    So non-trigger outputs are exactly 0 and trigger outputs exactly the mean, with V z = x.

    Args:
        p: content dimension.  T: tokens after BOS (>= 1; the task's batches have T >= 2).
    Returns:
        (W, V) for :func:`head_forward` with kind "relu" and normalise "preceding".
    """
    lay = layout(p, T, positional=False)
    W = np.zeros((lay.d, lay.d))
    W[lay.flag(TRIGGER), lay.flag(CONTENT)] = 1.0
    W[lay.flag(CONTENT), lay.flag(CONTENT)] = -1.0
    return W, value_reads_content_only(p, lay)
