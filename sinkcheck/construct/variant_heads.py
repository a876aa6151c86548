"""Trigger-task heads for every attention operation that solves the task without a sink token
(docs/variants_theory.md; :data:`sinkcheck.theory.variants.TRIGGER_WITHOUT_SINK`), run through the
registry's weights.

A head is (W, V) as in :mod:`sinkcheck.construct.trigger_weights` (logits z_i^T W z_j, scale 1;
values V z_j = x_j), plus, where the operation has one, the extra logit per query s_i = z_i . w_s
(softmax1: s = 0; the sink logit: w_s puts s_h on every query's type flag) or the gate logits
g_i = z_i . w_g (one per head, the same for every coordinate in the elementwise gate).  Each
"limit" head has a knob L: its sup error is at most :func:`error_bound` (R max(T, 3) e^{-L} and
similar, each attained up to a factor tending to 1), which tends to 0, and its BOS attention tends to
0; each "exact" head has error 0.  :func:`check_necessity` runs a BOS-sink (or sink-token) head of
each "no" operation and checks Ran-Milo's necessity bound on its real weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sinkcheck import validate, variants
from sinkcheck.construct import trigger_weights as tw
from sinkcheck.construct.trigger_task import BOS, CONTENT, TRIGGER, TriggerBatch, equal_content_batch, layout, sample_batch
from sinkcheck.core import attention as att
from sinkcheck.theory.trigger import f_bound
from sinkcheck.variants import reference as ref


@dataclass(frozen=True)
class Head:
    """One head of operation ``name``: W, V, the extra-logit vector ``w_s`` and the gate vector
    ``w_g`` (None where the operation has neither)."""

    name: str
    W: np.ndarray
    V: np.ndarray
    w_s: np.ndarray | None = None
    w_g: np.ndarray | None = None


LIMIT = ("softmax1", "sink_logit", "key_bias", "sigmoid", "sigmoid_bias", "elu1", "gated_head", "gated_elem")
"""The operations whose heads here solve the task in the limit L -> infinity."""

EXACT = ("relu", "relu_length", "softpick")
"""The operations whose heads here solve the task exactly (the others need a sink, by Ran-Milo's necessity argument)."""


def head(name: str, p: int, T: int, L: float = 0.0) -> Head:
    """The construction for ``name`` (one of :data:`LIMIT` or :data:`EXACT`) with knob L >= 0
    (ignored by the exact ones): content dimension p, T tokens after BOS.

    - softmax1: content queries score every key -L, the trigger its content keys +L;
    - sink_logit: s_h = L, content queries score 0, the trigger its content keys 2L;
    - key_bias: s_i = L on content queries, 0 on the trigger, which scores its content keys L;
    - sigmoid, sigmoid_bias, elu1 (with positions): the trigger at t scores its content keys a_t
      with weight times value scale exactly 1/(t-1) (sigmoid: a_t = -log(2t - 3), V = 2x; elu1:
      a_t = -log(t - 1)); every other score is at most -L (sigmoid_bias adds log(T + 1));
    - gated_head, gated_elem: gate logit -L on content queries, +L on the trigger, which scores
      its content keys L (softmax);
    - relu, relu_length: :func:`~sinkcheck.construct.trigger_weights.relu_exact_head`;
    - softpick: the trigger scores its content keys 1, BOS and itself 0 (abs(e^0 - 1) = 0 leaves them
      out of the denominator: weights exactly 1/(t-1)); content queries score content keys -1.
    """
    validate.choice("name", name, LIMIT + EXACT)
    L = validate.nonnegative("L", L)
    if name in ("relu", "relu_length"):
        return Head(name, *tw.relu_exact_head(p, T, "none" if name == "relu" else "length"))
    positional = name in ("sigmoid", "sigmoid_bias", "elu1")
    lay = layout(p, T, positional)
    W, V = np.zeros((lay.d, lay.d)), tw.value_reads_content_only(p, lay)
    f = lay.flag
    w_s = w_g = None
    if name == "softpick":
        W[f(TRIGGER), f(CONTENT)], W[f(CONTENT), f(CONTENT)] = 1.0, -1.0
    elif name == "softmax1":
        W[f(CONTENT), [f(BOS), f(CONTENT), f(TRIGGER)]] = -L
        W[f(TRIGGER), f(CONTENT)] = L
    elif name == "sink_logit":
        W[f(TRIGGER), f(CONTENT)] = 2 * L
        w_s = np.zeros(lay.d)
        w_s[[f(BOS), f(CONTENT), f(TRIGGER)]] = L  # every query has exactly one type flag: s_i = L
    elif name == "key_bias":
        W[f(TRIGGER), f(CONTENT)] = L
        w_s = np.zeros(lay.d)
        w_s[f(CONTENT)] = L
    elif name.startswith("gated"):
        W[f(TRIGGER), f(CONTENT)] = L
        w_g = np.zeros(lay.d)
        w_g[f(CONTENT)], w_g[f(TRIGGER)] = -L, L
    else:
        t = np.arange(2, T + 1)
        a = -np.log(2 * t - 3.0) if name != "elu1" else -np.log(t - 1.0)
        shift = np.log(T + 1.0) if name == "sigmoid_bias" else 0.0
        W[f(CONTENT), [f(BOS), f(CONTENT), f(TRIGGER)]] = -L  # content queries: every key at -L (+ a_i)
        W[f(TRIGGER), [f(BOS), f(TRIGGER)]] = -L  # the trigger: BOS and itself at -L
        W[[lay.pos(int(k)) for k in t], f(CONTENT)] = a + shift  # content keys from position k: a_k
        if name != "elu1":
            V = tw.value_reads_content_only(p, lay, 2.0)
    return Head(name, W, V, w_s, w_g)


def forward(batch: TriggerBatch, h: Head) -> tuple[np.ndarray, np.ndarray]:
    """Outputs O (B, T+1, p) and the effective attention A (B, T+1, T+1) of head ``h`` on a batch,
    through the registry's reference weights (A includes the gate: sigmoid(g_i) times the row)."""
    op = variants.get(h.name)
    Z = batch.Z
    S = att.scores(Z, Z, validate.finite_array("W", h.W, shape=(batch.lay.d, batch.lay.d)), scale=1.0)
    mask = att.causal_mask(S.shape[-1])
    if op.extra in ("logit", "key"):
        A = op.weights(S, mask, s=Z @ h.w_s)
    else:
        A = op.weights(S, mask)
    O = att.head_output(A, Z, h.V)
    if h.w_g is not None:
        G = (Z @ h.w_g)[..., None]
        O, A = ref.gate(O, G), ref.gate(A, G)
    return O, A


def error_bound(name: str, T: int, R: float, L: float) -> float:
    """The sup error of :func:`head` at knob L is at most this (Theorem V2 of docs/variants_theory.md),
    with equality in the limit L -> infinity on the all-equal probes of norm R; 0 for the exact ones.

    softmax1, key_bias: R max(T, 3) e^{-L} (content mass <= T e^{-L} off the trigger, its leak
    <= 3 e^{-L}); sink_logit: R (T + 2 e^{-L}) e^{-L} (its leak is <= e^{-L} + 2 e^{-2L}); sigmoid, sigmoid_bias: 4 R sigma(-L) (the content query at position 2 keeps
    2 sigma(-L) at value scale 2; at i >= 2 it keeps i / (1 + (2i - 3) e^L), falling in i);
    elu1: 2 R e^{-L} (at i >= 2, i e^{-L} / (i - 1)); gated: 3 R e^{-L}.
    """
    validate.choice("name", name, LIMIT + EXACT)
    if name in EXACT:
        return 0.0
    if name in ("sigmoid", "sigmoid_bias"):
        return 4.0 * R / (1.0 + float(np.exp(L)))
    c = {"elu1": 2.0, "gated_head": 3.0, "gated_elem": 3.0, "sink_logit": T + 2.0 * float(np.exp(-L))}.get(
        name, float(max(T, 3)))
    return c * R * float(np.exp(-L))


KNOBS = (0.0, 2.0, 4.0, 8.0, 16.0, 30.0)
"""The knobs L of the "limit" heads' executed check (the bound at L = 30 is below 1e-11 for T <= 8)."""

TIGHT = 1e-3
"""How close to 1 the largest error / bound ratio along the knobs must be (the bounds are sharp; at
L = 30 the error, about 1e-13 R, is a difference of numbers of size R and keeps only ~3 digits)."""


def check_trigger(name: str, T: int = 6, p: int = 2, R: float = 1.0, seed: int = 0, B: int = 128) -> dict:
    """The executed check of ``name``'s construction on a seeded batch of B sequences and the
    all-equal probes of norm R: "exact": sup error < 1e-12 and BOS attention exactly 0 everywhere;
    "limit": at every knob of :data:`KNOBS` the sup error is > 0 (not exact) and at most
    :func:`error_bound` (relative 1e-9), the largest ratio error / bound along the knobs is
    within :data:`TIGHT` of 1 (a loose constant fails), the bound falls along the knobs, and the largest
    BOS attention at a scored position tends to 0.  Returns the evidence with ``holds``."""
    validate.choice("name", name, LIMIT + EXACT)
    pos = name in ("sigmoid", "sigmoid_bias", "elu1", "relu", "relu_length")
    batches = (sample_batch(seed, B, T, p, R, positional=pos), equal_content_batch(np.r_[np.zeros(p - 1), R], T, pos))
    rows = []
    for L in (KNOBS if name in LIMIT else (0.0,)):
        h = head(name, p, T, L)
        outs = [forward(b, h) for b in batches]
        err = max(tw.sup_error(b, O) for b, (O, _) in zip(batches, outs))
        bos = max(float(A[:, 1:, 0].max()) for _, A in outs)
        rows.append({"L": L, "sup_error": err, "bound": error_bound(name, T, R, L), "max_bos": bos})
    if name in EXACT:
        ok = rows[0]["sup_error"] < 1e-12 and rows[0]["max_bos"] == 0.0
    else:
        ok = all(0 < r["sup_error"] <= r["bound"] * (1 + 1e-9) for r in rows) \
            and max(r["sup_error"] / r["bound"] for r in rows) >= 1 - TIGHT \
            and all(a["bound"] > b["bound"] for a, b in zip(rows, rows[1:])) and rows[-1]["max_bos"] < 1e-10
    return {"operation": name, "T": T, "p": p, "R": R, "seed": seed, "B": B, "rows": rows, "holds": bool(ok)}


# ---- the "no" operations: a head with a sink, and Ran-Milo's necessity bound on its weights --------

NEED_SINK = ("softmax", "sink_token", "sigmoid_sum", "linear_elu1")
"""The operations that need a sink (TRIGGER_WITHOUT_SINK "no"), each with a sink head here."""


def sink_forward(name: str, batch: TriggerBatch, L: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outputs O, the weights A on the real tokens and the sink token's weight (0 but for sink_token)
    of a head of ``name`` (:data:`NEED_SINK`) with a sink of knob L: content queries score the sink
    (BOS; the sink token of value 0 for sink_token) L and every other key -L; the trigger scores its
    content keys L and every other key -L.  linear_elu1's kernel scores are phi(q) . phi(k) with
    phi = elu + 1 of 2-d features: BOS key (L, -L), content key (-L, L), trigger key (-L, -L),
    content query (L, -L), trigger query (-L, L)."""
    validate.choice("name", name, NEED_SINK)
    L = validate.nonnegative("L", L)
    lay, Z, f = batch.lay, batch.Z, batch.lay.flag
    mask = att.causal_mask(Z.shape[1])
    if name == "linear_elu1":
        Fk = np.zeros((lay.d, 2))
        Fk[f(BOS)], Fk[f(CONTENT)], Fk[f(TRIGGER)] = (L, -L), (-L, L), (-L, -L)
        Fq = Fk.copy()
        Fq[f(CONTENT)], Fq[f(TRIGGER)] = (L, -L), (-L, L)
        S = ref.elu1_features(Z @ Fq) @ ref.elu1_features(Z @ Fk).swapaxes(-1, -2)
        A, tok = variants.get(name).weights(S, mask), np.zeros(Z.shape[:2])
    else:
        W = np.full((lay.d, lay.d), 0.0)
        W[f(CONTENT), [f(BOS), f(CONTENT), f(TRIGGER)]] = (-L if name == "sink_token" else L), -L, -L
        W[f(TRIGGER), [f(BOS), f(CONTENT), f(TRIGGER)]] = -L, L, -L
        S = att.scores(Z, Z, W, scale=1.0)
        if name == "sink_token":  # the token's logit: L for content queries, -L for the trigger
            s = np.where(batch.types == CONTENT, L, -L)[..., None]
            At = variants.get(name).weights(np.concatenate([s, S], -1), np.c_[np.ones((len(mask), 1), bool), mask])
            A, tok = At[..., 1:], At[..., 0]
        else:
            A, tok = variants.get(name).weights(S, mask), np.zeros(Z.shape[:2])
    return att.head_output(A, Z, tw.value_reads_content_only(lay.p, lay)), A, tok


def check_necessity(name: str, T: int = 6, p: int = 2, R: float = 1.0, seed: int = 0, B: int = 128,
                    knobs=(2.0, 4.0, 8.0)) -> dict:
    """Ran-Milo's necessity bound on the real weights of :func:`sink_forward`: at every knob the sup
    error eps (the seeded batch and the probes of norm r = R) is < R, every non-trigger position's
    content mass is <= f(eps) = eps / (R - eps) (beta = 0), so its sink mass (BOS, the trigger, the
    sink token) is >= 1 - f(eps); and eps falls along the knobs while the least sink mass rises: the
    head approximates the task only through its sink.  Returns the evidence with ``holds``."""
    validate.choice("name", name, NEED_SINK)
    batches = (sample_batch(seed, B, T, p, R, positional=False), equal_content_batch(np.r_[np.zeros(p - 1), R], T, False))
    rows = []
    for L in knobs:
        outs = [sink_forward(name, b, L) for b in batches]
        eps = max(tw.sup_error(b, O) for b, (O, _, _) in zip(batches, outs))
        off = [(b.types != TRIGGER) & b.scored for b in batches]
        m = max(float(np.einsum("bij,bj->bi", A, (b.types == CONTENT) * 1.0)[o].max())
                for b, (_, A, _), o in zip(batches, outs, off))
        rows.append({"L": L, "eps": eps, "content_mass": m, "f_eps": f_bound(eps, R) if eps > 0 else 0.0,
                     "sink_mass": 1.0 - m})
    ok = all(r["eps"] < R and r["content_mass"] <= r["f_eps"] * (1 + 1e-12) for r in rows) \
        and all(a["eps"] > b["eps"] and a["sink_mass"] < b["sink_mass"] for a, b in zip(rows, rows[1:]))
    return {"operation": name, "T": T, "p": p, "R": R, "seed": seed, "B": B, "rows": rows, "holds": bool(ok)}
