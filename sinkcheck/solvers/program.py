"""The margin program min ||M||_* s.t. z_x^T M (z_t - z_y) >= 1 for every constraint (x, t, y), and the
forms it is given to a solver in (docs/sink_vs_diagonal.md, docs/sink_geometry.md).

Both convex programs of sinkcheck have this form once the tokens are written in an orthonormal
basis of their span and scaled to O(1) coordinates: the minimum-cost sink and diagonal patterns
(Section 7) and the cheapest sink (Prop. 4.1, target the sink z_0). The caller passes the scaled
coordinates Z (one row per token) and the constraint triples, and maps the returned M back to W.

Forms (:data:`FORMS`). In the "kron" form constraint k is one sparse row of vec(M): kron(z_x, w_k)
with w_k = z_t - z_y, whose nonzeros are the products of the nonzero coordinates of z_x and w_k. In
the "split" form every query x with more than one nonzero coordinate gets an auxiliary row
v_x = z_x^T M (r equality constraints) and its constraints read v_x . w_k >= 1, rows with the
nonzeros of w_k only; queries with one nonzero coordinate keep their kron rows. The "dual" form
solves the dual program max 1^T y s.t. ||G(y)||_op <= 1, y >= 0, G(y) = sum_k y_k z_{x_k} w_k^T,
and reads M off the multiplier of its PSD constraint. All three have the same OPT; they differ
only in the solver's time (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

FORMS = ("kron", "split", "dual")
"""The three forms of the program (module docstring), which differ only in the solver's time."""

SPARSE_ATOL = 1e-12
"""Coordinates below this (relative to the largest) are dropped from the solver's copy of the
constraints only; the certificate is computed with the exact coordinates."""


@dataclass(frozen=True)
class Triples:
    """Constraints z_x^T M (z_t - z_y) >= 1 as index arrays (query x, target t, competitor y)."""

    query: np.ndarray
    target: np.ndarray
    competitor: np.ndarray

    def __len__(self) -> int:
        return int(self.query.size)


def sparse_copy(Z: np.ndarray) -> np.ndarray:
    """The solver's copy of Z: coordinates below SPARSE_ATOL times the largest set to 0."""
    return np.where(np.abs(Z) > SPARSE_ATOL * np.abs(Z).max(), Z, 0.0)


def spread(Z: np.ndarray, cons) -> float:
    """max_k ||w_k|| / min_k ||w_k|| over the constraint directions w_k = z_t - z_y (inf when some
    w_k = 0): how badly scaled the program is for a first-order solver."""
    w = np.linalg.norm(Z[cons.target] - Z[cons.competitor], axis=1)
    return float(w.max() / w.min()) if w.min() > 0 else np.inf


def constraint_matrix(Z: np.ndarray, cons) -> sp.csr_matrix:
    """(K, r^2) sparse matrix whose row k is kron(z_x, w_k), w_k = z_t - z_y: row k times vec(M)
    (row-major, M_ij at i * r + j) is the constraint value z_x^T M w_k."""
    r, K = Z.shape[1], len(cons)
    w = Z[cons.target] - Z[cons.competitor]
    rows, cols, vals = [np.zeros(0, int)], [np.zeros(0, int)], [np.zeros(0)]
    for x in np.unique(cons.query):
        k = np.flatnonzero(cons.query == x)
        i = np.flatnonzero(Z[x])
        block = Z[x, i][None, :, None] * w[k][:, None, :]  # (len(k), len(i), r)
        kk, ii, jj = np.nonzero(block)
        rows.append(k[kk]), cols.append(i[ii] * r + jj), vals.append(block[kk, ii, jj])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(K, r * r))


def margin_rows(Z: np.ndarray, cons, form: str) -> tuple[sp.csr_matrix, np.ndarray]:
    """The margin rows of ``form`` (module docstring) over the variables [vec(M); vec(V)] (row-major),
    row k for constraint k, and the queries that have a row of V (in V's row order; none in the kron form)."""
    r = Z.shape[1]
    split = np.unique(cons.query)
    split = split[np.count_nonzero(Z[split], axis=1) > 1] if form == "split" else split[:0]
    on_v = np.isin(cons.query, split)
    kron = constraint_matrix(Z, Triples(cons.query[~on_v], cons.target[~on_v], cons.competitor[~on_v])).tocoo()
    k_kron = np.flatnonzero(~on_v)
    k_v = np.flatnonzero(on_v)
    w = Z[cons.target[k_v]] - Z[cons.competitor[k_v]]
    kk, jj = np.nonzero(w)
    v_row = np.searchsorted(split, cons.query[k_v])
    rows = np.concatenate([k_kron[kron.row], k_v[kk]])
    cols = np.concatenate([kron.col, r * r + v_row[kk] * r + jj])
    vals = np.concatenate([kron.data, w[kk, jj]])
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(cons), r * r + split.size * r)), split


def program(Z: np.ndarray, cons, form: str, rho) -> tuple:
    """The cvxpy problem of ``form`` (module docstring) with margins rho (a cvxpy Parameter), on the
    solver's copy of Z (coordinates below SPARSE_ATOL set to 0), and functions that return its M
    and the duals y of its margin rows after a solve.

    The dual form is max 1^T y s.t. [[rho I, G(y)], [G(y)^T, rho I]] PSD, y >= 0; with L the
    multiplier of its PSD constraint, stationarity in y_k and y_k >= 0 give z_x^T (-2 L_12) w_k >= 1,
    so M = -2 L_12 (which the certificate rescales in any case)."""
    Z = sparse_copy(Z)
    r = Z.shape[1]
    if form == "dual":
        y = cp.Variable(len(cons), nonneg=True)
        G = cp.reshape(constraint_matrix(Z, cons).T @ y, (r, r), order="C")
        psd = cp.bmat([[rho * np.eye(r), G], [G.T, rho * np.eye(r)]]) >> 0
        return (cp.Problem(cp.Maximize(cp.sum(y)), [psd]), lambda: -2 * np.array(psd.dual_value)[:r, r:],
                lambda: np.array(y.value))
    M = cp.Variable((r, r))
    A, split = margin_rows(Z, cons, form)
    if split.size:
        V = cp.Variable((split.size, r))
        margins = A @ cp.hstack([cp.vec(M, order="C"), cp.vec(V, order="C")]) >= rho
        constraints = [V == sp.csr_matrix(Z[split]) @ M, margins]
    else:
        margins = A @ cp.vec(M, order="C") >= rho
        constraints = [margins]
    return (cp.Problem(cp.Minimize(cp.normNuc(M)), constraints), lambda: np.array(M.value),
            lambda: np.array(margins.dual_value).ravel())
