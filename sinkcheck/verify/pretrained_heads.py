"""Per-head smoothing quantities of THEOREMS.md section 4 on one sequence (the seed's Figures 8-9).

Adapter: the smoothing helper's ``analyse_head(X, Z, A, W_OV, causal=False)`` lives in
``sinkcheck/verify/smoothing_heads.py`` (branch ``smoothing``, not merged into this branch when it
was written).  :func:`analyse_head` below calls it when it is importable and maps its result to
the keys listed here; otherwise it computes the same quantities locally (``_local``).  After the
merge the local fallback can be deleted (one place for each idea).  The two agree when X = Z, as
in MiniLM; for X != Z the smoothing module fits beta by least squares of Cov(X, Z) onto B, the
fallback by the trace ratio.

Model (section 4, row convention): tokens Z (T, d), residual X (T, d), output
Y(A) = X + A Z W_OV^T.  B = within-sequence covariance of Z, beta from E[x z^T] = beta B
(least squares: beta = tr(Xc^T Zc) / tr(Zc^T Zc)).  Predictions: beta tr(BW) > 0 ("dense
smooths": the cosine similarity rises as attention becomes denser); beta tr(BW) + tr(B W^T W) < 0
("dense sharpens": it falls).
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate


def avg_cos(Y: np.ndarray) -> float:
    """Mean cosine similarity over ordered pairs i != j of the rows of Y (T >= 2)."""
    U = Y / np.linalg.norm(Y, axis=1, keepdims=True)
    G = U @ U.T
    T = G.shape[0]
    return float((G.sum() - np.trace(G)) / (T * (T - 1)))


def uniform_attention(T: int, causal: bool = False) -> np.ndarray:
    """A_u: every query spreads its mass evenly over the keys it can see."""
    A = np.tril(np.ones((T, T))) if causal else np.ones((T, T))
    return A / A.sum(axis=1, keepdims=True)


def analyse_head(X: np.ndarray, Z: np.ndarray, A: np.ndarray, W_OV: np.ndarray, causal: bool = False) -> dict:
    """Section 4's conditions and Figures 8-9's cosine changes for one head (keys: see ``_local``),
    through ``sinkcheck.verify.smoothing_heads.analyse_head`` when that module is present."""
    try:
        from sinkcheck.verify.smoothing_heads import analyse_head as shared
    except ImportError:
        return _local(X, Z, A, W_OV, causal)
    h = shared(X, Z, A, W_OV, causal=causal)
    return {
        "beta": h.beta,
        "tr_BW": h.beta_trBW / h.beta if h.beta else float("nan"),
        "tr_BWtW": h.trBWtW,
        "beta_tr_BW": h.beta_trBW,
        "sharpen": h.beta_trBW + h.trBWtW,
        "dcos_attn_vs_sparse": h.measured_delta_cos_identity,
        "dcos_uniform_vs_attn": h.measured_delta_cos,
    }


def _local(X: np.ndarray, Z: np.ndarray, A: np.ndarray, W_OV: np.ndarray, causal: bool = False) -> dict:
    """Section 4's conditions and the cosine changes of Figures 8-9 for one head on one sequence.

    Args:
        X: residual stream (T, d).  Z: tokens the head reads (T, d).  A: its attention (T, T).
        W_OV: value-output map (d, d).  causal: whether the uniform reference is causal.
    Returns:
        A dict with beta, tr_BW, tr_BWtW, beta_tr_BW (the dense-smooths quantity), sharpen (=
        beta tr(BW) + tr(B W^T W)), dcos_attn_vs_sparse (avg cos of X + A Z W^T minus that of
        X + Z W^T, Figure 8) and dcos_uniform_vs_attn (A_u against A, Figure 9).
    Raises:
        InvalidInputError: on non-finite input or mismatched shapes.
    """
    X = validate.finite_array("X", X, ndim=2)
    T, d = X.shape
    Z = validate.finite_array("Z", Z, shape=(T, d))
    A = validate.finite_array("A", A, shape=(T, T))
    W = validate.finite_array("W_OV", W_OV, shape=(d, d))
    validate.integer_at_least("T", T, 2)
    Xc, Zc = X - X.mean(axis=0), Z - Z.mean(axis=0)
    # B = Zc^T Zc / T; the traces are evaluated as O(T d^2) sums, never forming B W
    beta = float(np.sum(Xc * Zc) / np.sum(Zc * Zc))
    ZcW = Zc @ W.T
    tr_BW = float(np.sum(ZcW * Zc) / T)  # tr(B W) = sum_i zc_i^T W zc_i / T
    tr_BWtW = float(np.sum(ZcW * ZcW) / T)  # tr(B W^T W) = ||Zc W^T||_F^2 / T
    ZW = Z @ W.T
    cos_sparse = avg_cos(X + ZW)
    cos_attn = avg_cos(X + A @ ZW)
    cos_unif = avg_cos(X + uniform_attention(T, causal) @ ZW)
    return {
        "beta": beta,
        "tr_BW": tr_BW,
        "tr_BWtW": tr_BWtW,
        "beta_tr_BW": beta * tr_BW,
        "sharpen": beta * tr_BW + tr_BWtW,
        "dcos_attn_vs_sparse": cos_attn - cos_sparse,
        "dcos_uniform_vs_attn": cos_unif - cos_attn,
    }


def head_class(beta_tr_BW: float, sharpen: float) -> str:
    """"smooths" (beta tr(BW) > 0), "sharpens" (beta tr(BW) + tr(B W^T W) < 0) or "neither"."""
    if beta_tr_BW > 0:
        return "smooths"
    if sharpen < 0:
        return "sharpens"
    return "neither"
