"""Query-key factors of a bilinear form W = W_Q^T W_K (docs/cost_identity.md).

The Frobenius squared cost of a factorisation is ||W_Q||_F^2 + ||W_K||_F^2; its minimum over all
factorisations of W is 2 ||W||_* (:mod:`sinkcheck.theory.cost`), reached by the balanced SVD
factors returned here.
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate


def nuclear_norm(W: np.ndarray) -> float:
    """||W||_*, the sum of the singular values."""
    W = validate.finite_array("W", W, ndim=2)
    return float(np.linalg.svd(W, compute_uv=False).sum())


def qk_cost(W_Q: np.ndarray, W_K: np.ndarray) -> float:
    """||W_Q||_F^2 + ||W_K||_F^2, the Frobenius squared cost of a pair of factors."""
    W_Q = validate.finite_array("W_Q", W_Q, ndim=2)
    W_K = validate.finite_array("W_K", W_K, ndim=2)
    if W_Q.shape[0] != W_K.shape[0]:
        raise validate.InvalidInputError(
            f"W_K: must have as many rows as W_Q ({W_Q.shape[0]}) (got shape {W_K.shape})"
        )
    return float(np.sum(W_Q**2) + np.sum(W_K**2))


def balanced_factors(W: np.ndarray, rtol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """The balanced SVD factorisation W_Q = S^{1/2} U^T, W_K = S^{1/2} V^T.

    Args:
        W: a (d_q, d_k) matrix.
        rtol: singular values below rtol * sigma_max are dropped (they carry no cost).
    Returns:
        (W_Q, W_K) of shapes (r, d_q) and (r, d_k), r = numerical rank (at least 1), with
        W_Q^T W_K = W up to the dropped singular values and qk_cost = 2 ||W||_*.
    """
    W = validate.finite_array("W", W, ndim=2)
    validate.nonnegative("rtol", rtol)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    keep = s > rtol * (s[0] if s.size else 0.0)
    keep[0] = True  # keep one factor row even for W = 0, so shapes stay valid
    root = np.sqrt(s[keep])
    return root[:, None] * U[:, keep].T, root[:, None] * Vt[keep, :]


def span_basis(Z: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """Orthonormal basis Q (d, r) of the span of the rows of Z (r >= 1): the span reduction of
    docs/cost_identity.md (every constraint reads W only through z_i^T W z_j, so W = Q M Q^T).

    Full row rank: Cholesky-QR, Q = Z^T L^{-T} with Z Z^T = L L^T (one d-sized product, so the cost
    does not grow with d beyond it).  Otherwise (or if that Q is not orthonormal to 1e-10):
    Householder QR of Z^T and an SVD of R, dropping singular values below rtol * sigma_max.
    """
    Z = validate.finite_array("Z", Z, ndim=2)
    validate.nonnegative("rtol", rtol)
    try:
        L = np.linalg.cholesky(Z @ Z.T)
        Q = np.linalg.solve(L, Z).T
        if np.abs(Q.T @ Q - np.eye(Q.shape[1])).max() < 1e-10:
            return Q
    except np.linalg.LinAlgError:
        pass
    Qr, R = np.linalg.qr(Z.T)
    U, s, _ = np.linalg.svd(R)
    r = max(1, int(np.sum(s > rtol * max(s[0], 1e-300))))
    return Qr @ U[:, :r]
