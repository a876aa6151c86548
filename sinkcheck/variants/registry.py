"""The registry of attention operations: name -> :class:`Operation` (one place for each).

An operation turns a head's scores into weights.  ``weights`` is the numpy float64 reference
(:mod:`sinkcheck.variants.reference`), ``torch_weights`` the stable torch path training uses
(:mod:`sinkcheck.variants.stable`).  ``extra`` says what the operation adds to a head beyond its
weights, so that a model can build it and the metric can say where an "off" head's mass goes:

- ``"none"``: nothing;
- ``"logit"``: one learned logit s_h per head, a column appended to every row and dropped
  (the weights take ``s=``; softmax1 is s = 0 fixed, so its ``extra`` is "none" but it has the
  dropped column all the same: ``dropped``);
- ``"key"``: a learned key k_s per head with value 0: the same dropped column, with the
  query-dependent logit q . k_s / sqrt(d_h) (Gu et al.'s K bias);
- ``"token"``: a learned input vector before the first token, which the head sees as a key
  with a learned value (Xiao et al.'s sink token);
- ``"gate_head"`` / ``"gate_elem"``: the head's output times sigmoid(x W_g) of the query's
  hidden state x, one gate per head or per output coordinate (Qiu et al.'s G1 gate).

``score`` is "dot" (x_j = q . k_j / sqrt(d_h)) or "elu1_kernel" (x_j = phi(q) . phi(k_j),
phi = elu + 1, linear attention).  A user registers an operation with :func:`register`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.variants import reference as R
from sinkcheck.variants import stable as T

EXTRAS = ("none", "logit", "key", "token", "gate_head", "gate_elem")
"""What an operation adds to a head besides its weights (the registry's docstring)."""

SCORES = ("dot", "elu1_kernel")
"""How the scores x_j are formed from a query and a key."""


@dataclass(frozen=True)
class Operation:
    """One attention operation: its ``name``, a one-line ``summary``, whether its rows sum to 1
    (``normalises``; over the real keys and its dropped column, if any), its numpy reference
    ``weights(S, mask, **kw)`` and torch path ``torch_weights(S, mask, **kw)``, ``extra`` and
    ``score`` (the registry's docstring), ``source`` (who proposed it), ``builtin`` (False for
    a user's operation) and ``dropped``: whether its rows leave 1 - the row sum to a dropped
    column (softmax1's fixed logit 0, a sink logit, a key bias; True whenever ``extra`` is
    "logit" or "key"), which a measurement reads as the head's slot."""

    name: str
    summary: str
    normalises: bool
    weights: Callable
    torch_weights: Callable
    extra: str = "none"
    score: str = "dot"
    source: str = ""
    builtin: bool = field(default=True, compare=False)
    dropped: bool = False

    def __post_init__(self) -> None:
        if self.extra in ("logit", "key"):
            object.__setattr__(self, "dropped", True)
        validate.choice("extra", self.extra, EXTRAS)
        validate.choice("score", self.score, SCORES)
        if not self.name.isidentifier():
            raise InvalidInputError(f"name: must be a Python identifier (letters, digits, _) (got {self.name!r})")


_BUILTIN = (
    Operation("softmax", "e^x_j / sum_i e^x_i", True, R.softmax, T.softmax, source="every standard transformer"),
    Operation("softmax1", "e^x_j / (1 + sum_i e^x_i)", True, R.softmax1, T.softmax1,
              source="Miller (2023), 'off by one'", dropped=True),
    Operation("sink_logit", "e^x_j / (e^s_h + sum_i e^x_i), s_h learned per head", True, R.extra_logit,
              T.extra_logit, extra="logit", source="gpt-oss (2025)"),
    Operation("key_bias", "softmax over [k_s; K] with value [0; V], k_s learned per head", True, R.extra_logit,
              T.extra_logit, extra="key", source="Gu et al. (2025), Table 4 'K biases'"),
    Operation("sink_token", "softmax with a learned token before the first one", True, R.softmax, T.softmax,
              extra="token", source="Xiao et al. (2024), StreamingLLM"),
    Operation("sigmoid", "sigmoid(x_j)", False, R.sigmoid, T.sigmoid, source="Gu et al. (2025), Table 6"),
    Operation("sigmoid_bias", "sigmoid(x_j - log n)", False, R.sigmoid_log_n, T.sigmoid_log_n,
              source="Ramapuram et al. (2024)"),
    Operation("sigmoid_sum", "sigmoid(x_j) / sum_i sigmoid(x_i)", True, R.sigmoid_sum, T.sigmoid_sum,
              source="Gu et al. (2025), Table 6"),
    Operation("elu1", "elu(x_j) + 1", False, R.elu1, T.elu1, source="Gu et al. (2025), Table 6"),
    Operation("linear_elu1", "phi(q).phi(k_j) / sum_i phi(q).phi(k_i), phi = elu + 1", True, R.kernel_normalised,
              T.kernel_normalised, score="elu1_kernel",
              source="Katharopoulos et al. (2020); Gu et al. (2025), Table 6"),
    Operation("relu", "max(x_j, 0)", False, R.relu, T.relu, source="Ran-Milo (2026)"),
    Operation("relu_length", "max(x_j, 0) / (visible keys)", False, R.relu_length, T.relu_length,
              source="Ran-Milo (2026)"),
    Operation("softpick", "max(e^x_j - 1, 0) / sum_i |e^x_i - 1|", False, R.softpick, T.softpick,
              source="Zuhri et al. (2025)"),
    Operation("gated_head", "softmax, head output times sigmoid(x w_h)", True, R.softmax, T.softmax,
              extra="gate_head", source="Qiu et al. (2025), G1 headwise"),
    Operation("gated_elem", "softmax, head output times sigmoid(x W_g) per coordinate", True, R.softmax,
              T.softmax, extra="gate_elem", source="Qiu et al. (2025), G1 elementwise"),
)

OPERATIONS: dict[str, Operation] = {op.name: op for op in _BUILTIN}
"""Every registered operation by name, the built-in ones first, then any a user registers."""


def get(name: str) -> Operation:
    """The operation called ``name``, or InvalidInputError listing the registered names."""
    return OPERATIONS[validate.choice("attention", name, tuple(OPERATIONS))]


def register(name: str, torch_weights: Callable, *, normalises: bool, summary: str = "", weights: Callable | None = None,
             extra: str = "none", score: str = "dot", source: str = "user", dropped: bool = False) -> Operation:
    """Register a user's operation: ``torch_weights(S, mask) -> A`` (a function or an
    ``nn.Module`` on torch tensors; training uses it) and optionally a numpy ``weights``; without
    one, the reference is the torch path run in float64; ``dropped``: its rows leave 1 - the row
    sum to a dropped column (:class:`Operation`).  A built-in name cannot be replaced."""
    if name in OPERATIONS and OPERATIONS[name].builtin:
        raise InvalidInputError(f"name: must not be a built-in operation's name (got {name!r})")
    if not callable(torch_weights):
        raise InvalidInputError(f"torch_weights: must be callable, a function or a torch module (got {torch_weights!r})")
    if weights is not None and not callable(weights):
        raise InvalidInputError(f"weights: must be callable or None (got {weights!r})")
    op = Operation(name, summary or f"user operation {name}", bool(normalises),
                   weights or _numpy_from_torch(torch_weights), torch_weights, extra=extra, score=score,
                   source=source, builtin=False, dropped=bool(dropped))
    OPERATIONS[name] = op
    return op


def unregister(name: str) -> None:
    """Remove a user's operation (built-in ones stay)."""
    if name in OPERATIONS and not OPERATIONS[name].builtin:
        del OPERATIONS[name]


def _numpy_from_torch(fn: Callable) -> Callable:
    def weights(S, mask=None, **kw):
        import numpy as np
        import torch

        S = validate.finite_array("S", S)
        m = None if mask is None else torch.as_tensor(np.asarray(mask, dtype=bool))
        with torch.no_grad():
            return fn(torch.as_tensor(S, dtype=torch.float64), m, **kw).numpy()
    return weights
