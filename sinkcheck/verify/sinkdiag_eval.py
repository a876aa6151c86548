"""Evaluate the chain L <= OPT <= cost(construction) <= U on one instance, for both patterns.

All costs are QK costs 2 ||W_QK||_*; the value parts of the upper bounds (paper's constants) are
reported separately as ``value_cost``. JSON keys (stable): for each of ``sink`` and ``diag``:
``lower``, ``opt``, ``construction``, ``upper`` (QK parts; ``opt`` None when infeasible),
``value_cost``, ``lower_proved`` (our repaired lower bound, H1), ``status`` ("optimal" or
"infeasible"), ``solver``, ``construction_min_margin``, and ``verdicts``: a dict
``{"lower<=opt", "opt<=construction", "construction<=upper", "opt<=upper"}`` of
``{"verdict": "holds"|"violated"|"n/a", "slack": rhs - lhs}``.
"""

from __future__ import annotations

import math

import numpy as np

from sinkcheck.construct.min_cost import SOLVER_RTOL, min_cost
from sinkcheck.construct.sinkdiag_constraints import min_margin_by_kind
from sinkcheck.construct.sinkdiag_instance import SinkDiagInstance
from sinkcheck.construct.sinkdiag_weights import construction
from sinkcheck.errors import InfeasibleError, InvalidInputError
from sinkcheck.theory import sinkdiag_bounds as T

FEAS_ATOL = 1e-6
"""A construction counts as valid when its smallest margin is >= -FEAS_ATOL * kappa (float error)."""


def bound_values(inst: SinkDiagInstance, fallback: bool = True, qk: dict | None = None) -> dict[str, float]:
    """QK parts (``qk``, default the stated :data:`sinkcheck.theory.sinkdiag_bounds.QK`) and value parts of the four bounds, plus our
    proved lower bounds (``L_diag_proved`` only under H1; otherwise its first term)."""
    qk = T.QK if qk is None else qk
    subs = {T.kappa: inst.kappa, T.C: inst.C, T.d: inst.dim, T.lam: inst.lam, T.delta: inst.delta,
            T.r_eff: inst.r_eff, T.r_eta: inst.r_eta, T.Delta: inst.Delta_diag,
            T.sigma_op: float(np.linalg.norm(inst.eta_bar, 2))}
    out = {k: float(qk[k].subs(subs)) for k in qk if k != "U_diag"}
    out["U_diag"] = float(qk["U_diag"].subs(subs)) if inst.Delta_diag > 0 else math.inf
    out["L_sink_proved"] = float((T.L_sink_proved_fallback if fallback else T.L_sink_proved).subs(subs))
    diag = T.L_diag_proved if inst.is_centred else T.L_diag_eta_term
    out["L_diag_proved"] = float(diag.subs(subs))
    out["value_sink"] = float(T.VALUE_PAPER_CONSTANT["U_sink"].subs({T.r_eta: inst.r_eta, T.C: inst.C}))
    out["value_diag"] = float(T.VALUE_PAPER_CONSTANT["U_diag"].subs({T.r_eta: inst.r_eta, T.C: inst.C}))
    return out


def _verdict(lhs: float | None, rhs: float | None, rtol: float) -> dict:
    if lhs is None or rhs is None or math.isinf(rhs) and math.isinf(lhs):
        return {"verdict": "n/a", "slack": None}
    slack = rhs - lhs
    tol = rtol * max(1.0, abs(rhs) if math.isfinite(rhs) else 1.0)
    return {"verdict": "holds" if slack >= -tol else "violated", "slack": slack}


def evaluate(inst: SinkDiagInstance, fallback: bool = True, solver: str = "CLARABEL",
             qk: dict | None = None) -> dict:
    """The chain for both patterns (see module docstring); ``qk`` overrides the bound expressions
    (used by the planted-error tests)."""
    bv = bound_values(inst, fallback, qk)
    out = {"instance": inst.parameters(), "fallback": fallback}
    for pattern in ("sink", "diag"):
        try:
            sol = min_cost(inst, pattern, fallback, solver)
            opt, status, used = sol.opt, "optimal", sol.solver
        except InfeasibleError:
            opt, status, used = None, "infeasible", solver
        try:
            con = construction(inst, pattern, fallback)
            ccost = con.cost
            cmargin = min(min_margin_by_kind(inst, con.form, pattern, fallback).values())
        except InvalidInputError:  # Delta_diag <= 0: the diagonal construction does not exist
            ccost, cmargin = None, None
        valid = cmargin is not None and cmargin >= -FEAS_ATOL * inst.kappa
        lower, upper = bv["L_sink" if pattern == "sink" else "L_diag"], bv["U_" + pattern]
        verdicts = {
            "lower<=opt": _verdict(lower, math.inf if opt is None else opt, SOLVER_RTOL),
            "opt<=construction": _verdict(opt, ccost if valid else None, SOLVER_RTOL),
            "construction<=upper": _verdict(ccost if valid else None, upper, 1e-9),
            "opt<=upper": _verdict(opt, upper, SOLVER_RTOL) if opt is not None else
            {"verdict": "violated", "slack": None},
        }
        out[pattern] = {
            "lower": lower, "opt": opt, "construction": ccost, "upper": upper,
            "value_cost": bv["value_" + pattern], "lower_proved": bv[f"L_{pattern}_proved"],
            "status": status, "solver": used, "construction_min_margin": cmargin,
            "construction_valid": valid, "verdicts": verdicts,
        }
    s, g = out["sink"]["opt"], out["diag"]["opt"]
    out["ratio_diag_over_sink"] = (g / s) if (s and g is not None) else None
    out["winner"] = "sink" if g is None or (s is not None and s < g) else "diag"
    return out
