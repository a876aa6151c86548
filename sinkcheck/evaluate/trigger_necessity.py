"""Checking the trigger-task necessity bound (Theorem 1 of :mod:`sinkcheck.theory.trigger`) on heads.

:func:`probe` runs a head on the all-equal probe sequences of one content vector x and returns
the measured error eps, the largest content mass m at a non-trigger position, beta = the largest
norm of the content-free part of an output (what the proof of Theorem 1 uses; at most the largest
content-free value norm), and the margin eps - (m r / (1 + m) - beta), which Theorem 1 says is >= 0.
Heads come from :func:`random_head` (random logits, any value map) and :func:`optimised_head`
(a few Adam steps on the task, optionally with a penalty on BOS attention: heads that try to
avoid the sink and must then pay the predicted error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sinkcheck import validate
from sinkcheck.construct.trigger_task import CONTENT, equal_content_batch, layout, sample_batch
from sinkcheck.construct.trigger_weights import head_forward, multi_head_forward, position_errors
from sinkcheck.theory.trigger import min_error


@dataclass
class Probe:
    """Outcome of :func:`probe` (all numbers are maxima over the T probe sequences)."""

    eps: float  # sup error over the probes and positions 1..T
    content_mass: float  # max attention on content tokens at a non-trigger position
    bos_min_before: float  # min BOS attention at non-trigger positions before any trigger
    beta: float  # max norm of the content-free part w_i = sum_j A_ij u_j of an output, over the probes
    r: float  # ||x||
    beta_values: float = 0.0  # max norm of a content-free value u_j itself (>= beta)

    @property
    def required_error(self) -> float:
        """The least error Theorem 1 allows for this content mass, m r / (1 + m) - beta."""
        return min_error(min(self.content_mass, 1.0), self.r, self.beta)

    @property
    def margin(self) -> float:
        """The measured error minus required_error; Theorem 1 says it is >= 0."""
        return self.eps - self.required_error


def content_free_norm(V: np.ndarray, Z: np.ndarray, p: int) -> float:
    """beta = max_j ||V z_j - V_x x_j||: the norm of the content-free part of the values."""
    return float(np.linalg.norm(Z[..., p:] @ V[:, p:].T, axis=-1).max())


def probe(x: np.ndarray, T: int, heads: list[tuple[np.ndarray, np.ndarray]], positional: bool) -> Probe:
    """Measure a softmax head (or the sum of several) on the probes of content x.

    Args:
        x: the common content vector (r = ||x|| > 0).  T: tokens after BOS (>= 2).
        heads: [(W, V)] as for :func:`~sinkcheck.construct.trigger_weights.head_forward`.
        positional: whether the heads' layout has one-hot positions.
    Returns:
        The :class:`Probe`; for several heads, content_mass and bos_min_before are the heads'
        means (the unweighted version of Theorem 2's average).
    """
    x = validate.finite_array("x", x, ndim=1)
    r = float(np.linalg.norm(x))
    if r == 0:
        raise validate.InvalidInputError("x: must be non-zero (got the zero vector)")
    batch = equal_content_batch(x, T, positional)
    O, A = multi_head_forward(batch, heads)
    A = A.mean(axis=0)
    is_content = batch.types == CONTENT  # (B, T+1)
    mass = (A * is_content[:, None, :]).sum(axis=-1)  # (B, T+1) content mass per query
    nontrig = batch.scored & ~batch.is_trigger
    before = nontrig & ((batch.trigger[:, None] < 0) | (np.arange(T + 1)[None, :] < batch.trigger[:, None]))
    p = batch.lay.p
    beta_values = sum(content_free_norm(V, batch.Z, p) for _, V in heads)
    # the proof only uses ||w_i||, the content-free part of the output at each probe position
    w = sum(head_forward(batch, W, V)[1] @ (batch.Z[..., p:] @ V[:, p:].T) for W, V in heads)
    beta = float(np.linalg.norm(w, axis=-1)[batch.scored].max())
    return Probe(eps=float(position_errors(batch, O).max()), content_mass=float(mass[nontrig].max()),
                 bos_min_before=float(A[..., 0][before].min()), beta=beta, r=r, beta_values=beta_values)


def random_head(rng: np.random.Generator, p: int, T: int, logit_scale: float = 3.0,
                content_free: bool = False, positional: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A random softmax head: Gaussian logits times ``logit_scale``, a random V_x, and a random
    content-free part when ``content_free`` (else V z = V_x x, hypothesis (H))."""
    lay = layout(p, T, positional)
    W = logit_scale * rng.standard_normal((lay.d, lay.d))
    V = np.zeros((p, lay.d))
    V[:, :p] = np.eye(p) + 0.5 * rng.standard_normal((p, p))
    if content_free:
        V[:, p:] = 0.3 * rng.standard_normal((p, lay.d - p))
    return W, V


def optimised_head(seed: int, p: int, T: int, steps: int = 150, bos_penalty: float = 0.0,
                   positional: bool = True, lr: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """A softmax head under (H) after ``steps`` Adam steps (float64, CPU) from a random start.

    The loss is the squared error, with trigger positions weighted like all non-trigger positions
    together, plus ``bos_penalty`` times the mean BOS attention at non-trigger positions (a head
    pushed to avoid the sink).  Seeded: same arguments => same weights.
    """
    import torch

    from sinkcheck.core import attention_torch as att_t

    steps = validate.integer_at_least("steps", steps, 0)
    bos_penalty = validate.nonnegative("bos_penalty", bos_penalty)
    batch = sample_batch(seed, 64, T, p, 1.0, 0.5, positional)
    Z, Y = torch.tensor(batch.Z), torch.tensor(batch.Y)
    trig = torch.tensor(batch.is_trigger)
    nontrig = torch.tensor(batch.scored) & ~trig
    g = torch.Generator().manual_seed(seed)
    d = batch.lay.d
    W = (torch.randn(d, d, generator=g, dtype=torch.float64)).requires_grad_()
    Vx = (torch.eye(p, dtype=torch.float64) + 0.1 * torch.randn(p, p, generator=g, dtype=torch.float64)).requires_grad_()
    opt = torch.optim.Adam([W, Vx], lr=lr)
    mask = att_t.causal_mask(T + 1)
    with att_t.one_thread():
        for _ in range(steps):
            A = att_t.attention(att_t.scores(Z, Z, W, scale=1.0), "softmax", mask)
            O = A @ (Z[..., :p] @ Vx.T)
            err = ((O - Y) ** 2).sum(-1)
            loss = err[trig].mean() + err[nontrig].mean() + bos_penalty * A[..., 0][nontrig].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    V = np.zeros((p, d))
    V[:, :p] = Vx.detach().numpy()
    return W.detach().numpy(), V
