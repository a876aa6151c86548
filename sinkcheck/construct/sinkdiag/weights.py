"""The two explicit constructions of Súkeník et al., Section 7 (the upper-bound witnesses).

Both are written in the orthonormal basis ``[U, B_eta]`` (U spans S, B_eta the nuisance span), so
``W_QK = [U, B_eta] M [U, B_eta]^T`` and ``||W_QK||_* = ||M||_*`` at every d.
Coordinates of the tokens in U: Pi b = sqrt(d) e_0, Pi d_ci = lam sqrt(d) e_c, Pi c_c = sqrt(d) e_{C+c}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sinkcheck.construct.factors import balanced_factors
from sinkcheck.construct.sinkdiag.constraints import SpanForm
from sinkcheck.construct.sinkdiag.instance import RANK_RTOL, SinkDiagInstance
from sinkcheck.errors import InvalidInputError


@dataclass(frozen=True)
class Construction:
    """A constructed W_QK (as a :class:`~sinkcheck.construct.sinkdiag.constraints.SpanForm`), its knobs, and its QK cost 2 ||W_QK||_*."""

    pattern: str
    form: SpanForm
    params: dict = field(default_factory=dict)

    @property
    def cost(self) -> float:
        """Twice the nuclear norm of W_QK, from the singular values of M (exact, as the basis is orthonormal)."""
        return float(2 * np.linalg.svd(self.form.M, compute_uv=False).sum())

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Balanced factors (W_Q, W_K), each (rank, d), with W_Q^T W_K = W_QK and cost 2 ||W||_*."""
        Wq, Wk = balanced_factors(self.form.M)
        return Wq @ self.form.basis.T, Wk @ self.form.basis.T


def nuisance_basis(inst: SinkDiagInstance) -> np.ndarray:
    """(d, r_eta) orthonormal basis of the nuisance span."""
    _, _, Vt = np.linalg.svd(inst.eta, full_matrices=False)
    return Vt[: inst.r_eta].T


def sink_knobs(d: int, lam: float, kappa: float, fallback: bool = True) -> tuple[float, float]:
    """The smallest (a, b) for which the sink construction meets every margin.

    Margin walk (scores of M = a r e_0^T + b sum_c e_{C+c} e_c^T; all other scores are 0):
    dormant on b scores a lam sqrt(d) >= kappa; fallback copy on b scores a sqrt(d) >= kappa;
    copy on its group scores b lam sqrt(d), which must beat b's a sqrt(d) by kappa. Hence
    a = kappa / (sqrt(d) min(lam, 1)) (a = kappa / (lam sqrt(d)) without fallback) and
    b = (kappa + a sqrt(d)) / (lam sqrt(d)).
    """
    root = np.sqrt(d)
    a = kappa / (root * (min(lam, 1.0) if fallback else lam))
    b = (kappa + a * root) / (lam * root)
    return float(a), float(b)


def sink_construction(inst: SinkDiagInstance, fallback: bool = True) -> Construction:
    """W_QK = Pi^T M Pi with M = a r e_0^T + b sum_c e_{C+c} e_c^T, r = (0, 1, ..., 1).

    Args:
        inst: the instance.
        fallback: whether the group-absent copy constraints must hold (they set a >= kappa/sqrt(d)).
    Returns:
        The :class:`Construction` with params a, b. Its cost is
        2 [(C - 1) b + sqrt(2 C a^2 + b^2 + 2 sqrt(C) a b)] (:mod:`sinkcheck.theory.sinkdiag_bounds`).
    """
    C, m = inst.C, 2 * inst.C + 1
    a, b = sink_knobs(inst.dim, inst.lam, inst.kappa, fallback)
    M = np.zeros((m, m))
    M[1:, 0] = a  # a r e_0^T: every non-BOS query scores a * (its U-coefficient) on b
    M[C + 1:, 1:C + 1] = b * np.eye(C)  # copy query c_c reads group direction dbar_c
    return Construction("sink", SpanForm(inst.U, M), {"a": a, "b": b})


def sink_fallback_construction(inst: SinkDiagInstance) -> Construction:
    """The sink construction that meets the fallback constraints at the least cost as lam grows.

    M (basis U) has three blocks, in units t = kappa / sqrt(d).

    - Copy query c_c on b and on every copy query: t (alpha e_0 - beta sum_c' e_{C+c'}), with
      alpha = C/(C+1) and beta = 1/(C+1), so "b beats c_c'" holds with value exactly t (the
      rank-one minimum of the fallback constraints alone,
      :data:`sinkcheck.theory.sinkdiag_bounds.L_sink_fallback`).
    - Copy query c_c on the group directions: g on its own (it must beat b's alpha t by t), -e on
      the others (the fallback against another group's tokens), g = (1 + alpha) t / lam and
      e = beta t / lam.
    - Dormant group direction on b: t / lam.

    No block reads the nuisance, so every margin holds for every nuisance; the cost is at most
    :func:`sinkcheck.theory.sinkdiag_bounds.sink_fallback_construction_cost`.
    """
    C, m = inst.C, 2 * inst.C + 1
    t, lam = inst.kappa / np.sqrt(inst.dim), inst.lam
    alpha, beta = C / (C + 1), 1 / (C + 1)
    g, e = (1 + alpha) * t / lam, beta * t / lam
    M = np.zeros((m, m))
    M[C + 1:, 0] = alpha * t
    M[C + 1:, C + 1:] = -beta * t
    M[C + 1:, 1:C + 1] = (g + e) * np.eye(C) - e
    M[1:C + 1, 0] = t / lam
    return Construction("sink", SpanForm(inst.U, M), {"alpha": alpha, "beta": beta, "g": g, "e": e})


def diag_knobs(d: int, lam: float, kappa: float, Delta_diag: float, fallback: bool = True) -> dict:
    """The paper's knobs s, a, b, alpha_diag of the diagonal construction (a = 0 without fallback)."""
    if not Delta_diag > RANK_RTOL:
        raise InvalidInputError(f"Delta_diag: must be > 0 for the diagonal construction (got {Delta_diag!r})")
    root = np.sqrt(d)
    return {"s": kappa / (lam**2 * root), "a": kappa / root if fallback else 0.0,
            "b": 2 * kappa / (lam * root), "alpha_diag": 2 * kappa * root / Delta_diag}


def diag_construction(inst: SinkDiagInstance, fallback: bool = True) -> Construction:
    """W_QK = Pi^T M_diag Pi + alpha_diag P_eta (the paper's s, a, b, alpha_diag).

    Margin walk: d_ci scores kappa + alpha ||eta_ci||^2 / sqrt(d) on itself and
    kappa + alpha eta_ci^T eta_cj / sqrt(d) on a group mate, a gap alpha Delta_diag / (2 sqrt(d))
    >= kappa by the choice of alpha; on b and on copy queries it scores 0, on another group's d_c'j
    alpha eta_ci^T eta_c'j / sqrt(d) (beaten iff ||eta_ci||^2 >= eta_ci^T eta_c'j, true under H2).
    c_c scores b lam sqrt(d) = 2 kappa on its group, a sqrt(d) = kappa on itself, 0 elsewhere.

    Raises:
        InvalidInputError: Delta_diag <= 0 (then no alpha works).
    """
    C, m = inst.C, 2 * inst.C + 1
    k = diag_knobs(inst.dim, inst.lam, inst.kappa, inst.Delta_diag, fallback)
    r = inst.r_eta
    M = np.zeros((m + r, m + r))
    M[1:C + 1, 1:C + 1] = k["s"] * np.eye(C)
    M[C + 1:m, C + 1:m] = k["a"] * np.eye(C)
    M[C + 1:m, 1:C + 1] = k["b"] * np.eye(C)
    M[m:, m:] = k["alpha_diag"] * np.eye(r)  # alpha_diag P_eta
    basis = np.hstack([inst.U, nuisance_basis(inst)])
    return Construction("diag", SpanForm(basis, M), k)


def construction(inst: SinkDiagInstance, pattern: str, fallback: bool = True) -> Construction:
    """The construction of ``pattern`` ("sink" | "diag")."""
    if pattern == "sink":
        return sink_construction(inst, fallback)
    if pattern == "diag":
        return diag_construction(inst, fallback)
    raise InvalidInputError(f"pattern: must be one of sink, diag (got {pattern!r})")
