"""Gu et al. (ICLR 2025)'s sink metric (docs/empirical.md, "The model and the metric").

Positions are 0-indexed here: position 0 is Gu et al.'s k = 1 (the first token).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError

GU_EPS = 0.3
"""The threshold Gu et al. use."""


def proxy_scores(A: np.ndarray) -> np.ndarray:
    """Row-normalise unnormalised attention weights, only for the metric (Gu et al.'s proxy).

    A row of all zeros (a head that is fully "off") stays all zeros: it puts no mass anywhere.
    """
    A = validate.finite_array("A", A)
    if np.any(A < 0):
        raise validate.InvalidInputError("A: attention weights must be >= 0 (got a negative entry)")
    total = A.sum(axis=-1, keepdims=True)
    return np.divide(A, total, out=np.zeros_like(A), where=total > 0)


IMPORTANCE = ("gu", "encoder")
"""The two importance variants, Gu et al.'s formula and its encoder form (:func:`importance`)."""


def importance(A: np.ndarray, variant: str = "gu") -> np.ndarray:
    """The importance alpha_k of every position in every map of A (..., T, T), rows = queries;
    one value per map and position, never averaged over maps.

    - ``"gu"``: Gu et al.'s formula, alpha_k = (1 / (T - k)) sum_i A_ik (0-indexed k), the column
      sum over every query.  On a causal map the queries i < k put nothing on k, so alpha_k is the
      mean over the T - k queries that see k.
    - ``"encoder"``: alpha_k = (1 / T) sum_i A_ik, the mean over all T queries.  On a bidirectional
      map every query sees k, and the "gu" formula would divide a sum over T queries by T - k:
      alpha_{T-1} is the whole column sum (up to T), so later positions get inflated rates.
    """
    A = validate.finite_array("A", A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise validate.InvalidInputError(f"A: must have shape (..., T, T) (got shape {A.shape})")
    validate.choice("variant", variant, IMPORTANCE)
    T = A.shape[-1]
    queries = T - np.arange(T) if variant == "gu" else np.full(T, T)
    return A.sum(axis=-2) / queries


@dataclass(frozen=True)
class SinkRates:
    """Gu et al.'s Sink_k^eps over a set of attention maps, with everything it is pooled from.

    ``hits[l, h, k]`` counts the samples (among the ``samples[k]`` that have position k) in which
    head h of layer l has alpha_k > eps.  Gu et al.'s Sink_k^eps thresholds every (sample, layer,
    head) and averages the 0/1 outcomes: ``sink_k`` (over layers and heads too) and ``per_layer``
    (over heads).  ``heads_mean_alpha_above_eps`` is a *different* statistic, kept under its own
    name: the fraction of heads whose importance, first averaged over the samples, exceeds eps.
    """

    eps: float
    variant: str
    samples: np.ndarray  # (T_max,) how many samples have position k
    mean_alpha: np.ndarray  # (L, H, T_max) alpha_k averaged over those samples
    hits: np.ndarray  # (L, H, T_max) how many of them have alpha_k > eps

    @property
    def per_head(self) -> np.ndarray:
        """(L, H, T_max) the fraction of samples in which the head has a sink at k."""
        return self.hits / self.samples

    @property
    def sink_k(self) -> np.ndarray:
        """(T_max,) Sink_k^eps (Gu et al.'s pooling)."""
        L, H = self.hits.shape[:2]
        return self.hits.sum(axis=(0, 1)) / (self.samples * L * H)

    @property
    def per_layer(self) -> np.ndarray:
        """(L, T_max) Sink_k^eps of each layer (Gu et al.'s pooling within the layer)."""
        return self.hits.sum(axis=1) / (self.samples * self.hits.shape[1])

    @property
    def heads_mean_alpha_above_eps(self) -> np.ndarray:
        """(T_max,) the fraction of heads whose mean importance exceeds eps (not Gu et al.'s pooling)."""
        return (self.mean_alpha > self.eps).mean(axis=(0, 1))


def sink_rates(maps, eps: float = GU_EPS, variant: str = "gu") -> SinkRates:
    """Sink_k^eps at every position k of ``maps``, Gu et al.'s pooling: alpha_k per (sample, layer,
    head), the strict test alpha_k > eps, the outcomes averaged over samples x layers x heads.

    Args:
        maps: an array (N, L, H, T, T), or an iterable of N arrays (L, H, T_n, T_n) whose lengths
            may differ (position k is then pooled over the samples with T_n > k).  Rows are
            queries; weights >= 0 (proxy scores for unnormalised attention: :func:`proxy_scores`).
        eps: the threshold in [0, 1].  variant: ``"gu"`` or ``"encoder"`` (:func:`importance`).
    """
    validate.in_interval("eps", eps, 0.0, 1.0)
    validate.choice("variant", variant, IMPORTANCE)
    if isinstance(maps, np.ndarray) and maps.ndim != 5:
        raise InvalidInputError(f"maps: must have shape (samples, layers, heads, T, T) (got shape {maps.shape})")
    alphas = []
    for n, A in enumerate(maps):  # one sample at a time: maps may be a stream
        A = validate.finite_array(f"maps[{n}]", A)
        if n == 0:
            first = A.shape
        if A.ndim != 4 or A.shape[-1] != A.shape[-2] or A.shape[:2] != first[:2]:
            raise InvalidInputError(f"maps[{n}]: must have shape (layers, heads, T, T) with the layers and heads "
                                    f"of maps[0] (got shape {A.shape}, maps[0] has {first})")
        if np.any(A < 0):
            raise InvalidInputError(f"maps[{n}]: attention weights must be >= 0 (got {A.min():.3g})")
        alphas.append(importance(A, variant))  # (L, H, T_n)
    if not alphas:
        raise InvalidInputError("maps: must hold at least one sample (got none)")
    L, H = alphas[0].shape[:2]
    T_max = max(a.shape[-1] for a in alphas)
    samples, total = np.zeros(T_max, dtype=int), np.zeros((L, H, T_max))
    hits = np.zeros((L, H, T_max), dtype=int)
    for a in alphas:
        T = a.shape[-1]
        samples[:T] += 1
        total[..., :T] += a
        hits[..., :T] += a > eps
    return SinkRates(eps=float(eps), variant=variant, samples=samples, mean_alpha=total / samples, hits=hits)


def sink_rate(maps, k: int = 0, eps: float = GU_EPS, variant: str = "gu") -> float:
    """Sink_k^eps of ``maps`` (N, L, H, T, T) at one position k (0 = the first token), Gu et al.'s
    pooling (:func:`sink_rates`)."""
    rates = sink_rates(maps, eps=eps, variant=variant)
    if not (0 <= k < len(rates.samples)):
        raise validate.InvalidInputError(f"k: must be a position in [0, {len(rates.samples) - 1}] (got {k!r})")
    return float(rates.sink_k[k])


def cosine_matrix(Y) -> np.ndarray:
    """Cosines between the rows of Y (..., T, d), every row non-zero: shape (..., T, T)."""
    Y = validate.finite_array("Y", Y)
    norms = np.linalg.norm(Y, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise InvalidInputError("Y: every row must be non-zero for a cosine (got a zero row)")
    U = Y / norms
    return U @ np.swapaxes(U, -1, -2)


def avg_pairwise_cosine(Y) -> np.ndarray:
    """The average cosine similarity of Súkeník et al.: the mean of cos(Y_i, Y_j) over ordered pairs
    i != j of the T >= 2 rows of Y (..., T, d); one value per leading index (a scalar array for 2-D Y)."""
    Y = validate.finite_array("Y", Y)
    T = validate.integer_at_least("Y rows (T)", Y.shape[-2], 2)
    G = cosine_matrix(Y)
    return (G.sum(axis=(-1, -2)) - np.trace(G, axis1=-2, axis2=-1)) / (T * (T - 1))
