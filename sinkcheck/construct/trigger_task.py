"""The trigger-conditional task of Ran-Milo (2026) (docs/trigger.md) as a seeded generator.

A sequence is BOS at position 0 and tokens at positions 1..T, at most one of which is a trigger.
Token encoding (one row of Z, width d = p + 3 [+ n_pos]):

    z_j = (x_j ; bos_j, content_j, trigger_j ; e_j)

with content x_j in R^p, ||x_j|| <= R, on content tokens (BOS and the trigger carry x = 0), the
three type flags, and an optional one-hot position e_j over positions 0..n_pos-1.

Targets y_i in R^p, for positions i = 1..T (the BOS row has no target and is never scored):
y_t = (1 / (t - 1)) sum_{j < t} x_j at the trigger position t, and y_i = 0 elsewhere (also after
the trigger).  Triggers sit at t in {2..T}, so the mean is over at least one content vector.

Batches have a fixed T (and so need no padding mask).  Attention is causal, so the outputs at
positions 1..T' of a length-T sequence are those of its length-T' prefix: one batch of length T
covers every length T' <= T, and variable lengths are obtained by drawing T per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sinkcheck import validate

BOS, CONTENT, TRIGGER = 0, 1, 2
"""Token type codes (also the offsets of the type flags after the p content coordinates)."""


@dataclass(frozen=True)
class Layout:
    """Column layout of the encoding: content 0..p-1, flags p..p+2, positions p+3..d-1."""

    p: int
    n_pos: int  # 0 when the encoding has no positional one-hot

    @property
    def d(self) -> int:
        return self.p + 3 + self.n_pos

    def flag(self, kind: int) -> int:
        """Column of the type flag ``kind`` (BOS, CONTENT or TRIGGER)."""
        return self.p + kind

    def pos(self, j: int) -> int:
        """Column of the one-hot for position j."""
        if not (0 <= j < self.n_pos):
            raise validate.InvalidInputError(f"j: must be a position in [0, {self.n_pos - 1}] (got {j!r})")
        return self.p + 3 + j


def layout(p: int, T: int, positional: bool = True) -> Layout:
    """The layout for content dimension p and sequences of up to T tokens after BOS."""
    p = validate.integer_at_least("p", p, 1)
    T = validate.integer_at_least("T", T, 1)
    return Layout(p=p, n_pos=T + 1 if positional else 0)


@dataclass
class TriggerBatch:
    """A batch of B sequences of length T + 1 (BOS included).

    Attributes:
        Z: encodings, shape (B, T+1, d).
        Y: targets, shape (B, T+1, p); row 0 (BOS) is 0 and is excluded by ``scored``.
        types: token types, shape (B, T+1), values BOS / CONTENT / TRIGGER.
        trigger: trigger position per sequence, or -1 for none; shape (B,).
        lay: the column layout.
    """

    Z: np.ndarray
    Y: np.ndarray
    types: np.ndarray
    trigger: np.ndarray
    lay: Layout

    @property
    def scored(self) -> np.ndarray:
        """The positions 1..T that carry a target, as a boolean array of shape (B, T+1)."""
        s = np.ones(self.types.shape, dtype=bool)
        s[:, 0] = False
        return s

    @property
    def is_trigger(self) -> np.ndarray:
        """The trigger positions, as a boolean array of shape (B, T+1)."""
        return self.types == TRIGGER


def encode(X: np.ndarray, trigger: np.ndarray, lay: Layout) -> TriggerBatch:
    """Encode content vectors and trigger positions, and compute the targets.

    Args:
        X: content vectors, shape (B, T, p) for positions 1..T (the row at the trigger is ignored).
        trigger: shape (B,), the trigger position in {2..T}, or -1 for a sequence without trigger.
        lay: the layout; its n_pos must be 0 or at least T + 1.
    Returns:
        The :class:`TriggerBatch`.
    Raises:
        InvalidInputError: on a bad shape, a non-finite X, or a trigger position outside {2..T}.
    """
    X = validate.finite_array("X", X, ndim=3)
    B, T, p = X.shape
    if p != lay.p:
        raise validate.InvalidInputError(f"X: must have p = {lay.p} columns (got shape {X.shape})")
    if lay.n_pos and lay.n_pos < T + 1:
        raise validate.InvalidInputError(f"lay: needs at least {T + 1} positions (got n_pos = {lay.n_pos})")
    trigger = np.asarray(trigger, dtype=int).reshape(-1)
    if trigger.shape != (B,):
        raise validate.InvalidInputError(f"trigger: must have shape ({B},) (got shape {trigger.shape})")
    if np.any((trigger != -1) & ((trigger < 2) | (trigger > T))):
        raise validate.InvalidInputError(f"trigger: must be -1 or a position in [2, {T}] (got {trigger.tolist()})")
    types = np.full((B, T + 1), CONTENT)
    types[:, 0] = BOS
    rows = np.nonzero(trigger > 0)[0]
    types[rows, trigger[rows]] = TRIGGER
    Z = np.zeros((B, T + 1, lay.d))
    Z[:, 1:, :p] = np.where((types[:, 1:] == CONTENT)[..., None], X, 0.0)
    for kind in (BOS, CONTENT, TRIGGER):
        Z[..., lay.flag(kind)] = types == kind
    if lay.n_pos:
        Z[:, np.arange(T + 1), lay.p + 3 + np.arange(T + 1)] = 1.0
    Y = np.zeros((B, T + 1, p))
    for b in rows:
        t = trigger[b]
        Y[b, t] = Z[b, 1:t, :p].mean(axis=0)  # positions 1..t-1 are all content
    return TriggerBatch(Z=Z, Y=Y, types=types, trigger=trigger, lay=lay)


def sample_content(rng: np.random.Generator, shape: tuple[int, ...], p: int, R: float) -> np.ndarray:
    """Content vectors uniform in the ball of radius R in R^p (direction uniform, radius R U^(1/p))."""
    g = rng.standard_normal((*shape, p))
    g /= np.maximum(np.linalg.norm(g, axis=-1, keepdims=True), 1e-300)
    return g * (R * rng.random((*shape, 1)) ** (1.0 / p))


def sample_batch(seed: int, B: int, T: int, p: int, R: float = 1.0, trigger_prob: float = 0.5,
                 positional: bool = True, n_pos: int | None = None) -> TriggerBatch:
    """A seeded batch: each sequence has a trigger with probability ``trigger_prob``, at a
    uniform position in {2..T}; content vectors are uniform in the ball of radius R.

    Args:
        seed: seed of the numpy Generator (same seed => same batch).
        B, T, p: batch size, tokens after BOS (T >= 2 so that a trigger fits), content dimension.
        R: content radius (> 0).  trigger_prob: in [0, 1].
        positional: append the one-hot position; ``n_pos`` (default T + 1) sets its width.
    Raises:
        InvalidInputError: naming the offending parameter.
    """
    B = validate.integer_at_least("B", B, 1)
    T = validate.integer_at_least("T", T, 2)
    p = validate.integer_at_least("p", p, 1)
    R = validate.positive("R", R)
    trigger_prob = validate.in_interval("trigger_prob", trigger_prob, 0.0, 1.0)
    lay = layout(p, T, positional)
    if positional and n_pos is not None:
        lay = Layout(p=p, n_pos=validate.integer_at_least("n_pos", n_pos, T + 1))
    rng = np.random.default_rng(seed)
    X = sample_content(rng, (B, T), p, R)
    has = rng.random(B) < trigger_prob
    where = rng.integers(2, T + 1, size=B)
    return encode(X, np.where(has, where, -1), lay)


def equal_content_batch(x: np.ndarray, T: int, positional: bool = True) -> TriggerBatch:
    """The probe sequences of the necessity proof: every content vector equal to x.

    Returns T sequences: row 0 without trigger, row k (k = 1..T-1) with the trigger at t = k + 1.
    """
    x = validate.finite_array("x", x, ndim=1)
    T = validate.integer_at_least("T", T, 2)
    lay = layout(x.shape[0], T, positional)
    X = np.broadcast_to(x, (T, T, x.shape[0])).copy()
    trig = np.array([-1] + list(range(2, T + 1)))
    return encode(X, trig, lay)
