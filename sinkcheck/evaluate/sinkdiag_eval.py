"""Evaluate the chain L <= OPT <= cost(construction) <= U on one instance, for both patterns.

All costs are QK costs 2 ||W_QK||_*; the value parts of the upper bounds (paper's constants) are
reported separately as ``value_cost``. :func:`evaluate` returns an
:class:`~sinkcheck.evaluate.sinkdiag_result.Evaluation`: per pattern, ``lower``, ``opt``,
``construction``, ``upper`` (QK parts; ``opt`` None unless the solve was optimal; ``opt`` is the
cost of a W meeting every margin), ``opt_lower`` (certified lower bound on OPT, weak duality),
``opt_upper`` (the upper end of that bracket: ``opt`` when reported), ``value_cost``,
``lower_proved`` (our repaired lower bound, H1), ``status`` ("optimal", "infeasible", "bracket":
the solve's certified gap exceeded MAX_GAP, so ``opt`` is None and only the bracket
[``opt_lower``, ``opt_upper``] is known, or "failed": the solve raised a SolverError, whose text is
``error``; then nothing is known of OPT and its verdicts are "n/a", while the other pattern's
result stands), ``solver``, ``construction_min_margin``, and a verdict ("holds", "violated",
"undecided" or "n/a", with its slack rhs - lhs) per
:class:`~sinkcheck.evaluate.sinkdiag_result.Inequality`.

OPT is known only within its certified bracket [opt_lower, opt] (:mod:`sinkcheck.construct.sinkdiag.min_cost`),
so a verdict on OPT is "holds" when the whole bracket satisfies the inequality, "violated" when
none of it does, and "undecided" when the other side falls inside the bracket (never seen on the
built-in grid; a reported bracket is at most MAX_GAP wide, a "bracket" status may be wider). Closed forms are compared with relative
tolerance EXACT_RTOL.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from tqdm import tqdm

from sinkcheck.construct.sinkdiag.min_cost import min_cost
from sinkcheck.construct.sinkdiag.cases import CASES
from sinkcheck.construct.sinkdiag.constraints import margin_constraints, min_margin_by_kind
from sinkcheck.construct.sinkdiag.instance import SinkDiagInstance, sample_instance
from sinkcheck.construct.sinkdiag.params import check_size
from sinkcheck.construct.sinkdiag.weights import construction
from sinkcheck.errors import InfeasibleError, InvalidInputError, SolverError, WideBracketError
from sinkcheck.evaluate.sinkdiag_result import PATTERNS, Evaluation, Inequality, PatternResult, Verdict
from sinkcheck.theory import sinkdiag_bounds as T

EXACT_RTOL = 1e-9
"""Relative tolerance of comparisons between closed forms and constructions (float rounding)."""

FEAS_ATOL = 1e-6
"""A construction counts as valid when its smallest margin is >= -FEAS_ATOL * kappa (float error)."""


def bound_values(inst: SinkDiagInstance, fallback: bool = True, qk: dict | None = None) -> dict[str, float]:
    """QK parts (``qk``, default the stated :data:`sinkcheck.theory.sinkdiag_bounds.QK`) and value parts of the four bounds, plus our
    proved lower bounds: the copy-constraint bounds (``L_diag_proved`` only under H1; otherwise its
    first term) and, with ``fallback``, the larger of those and the fallback-only bounds."""
    qk = T.QK if qk is None else qk
    subs = {T.kappa: inst.kappa, T.C: inst.C, T.d: inst.dim, T.lam: inst.lam, T.delta: inst.delta,
            T.r_eff: inst.r_eff, T.r_eta: inst.r_eta, T.Delta: inst.Delta_diag,
            T.sigma_op: float(np.linalg.norm(inst.eta_bar, 2))}
    out = {k: float(qk[k].subs(subs)) for k in qk if k != "U_diag"}
    out["U_diag"] = float(qk["U_diag"].subs(subs)) if inst.Delta_diag > 0 else math.inf
    out["L_sink_proved"] = float((T.L_sink_proved_fallback if fallback else T.L_sink_proved).subs(subs))
    diag = T.L_diag_proved if inst.is_centred else T.L_diag_eta_term
    out["L_diag_proved"] = float(diag.subs(subs))
    if fallback:  # the fallback-only bounds (any lam, no H1); the larger of two lower bounds is one
        out["L_sink_proved"] = max(out["L_sink_proved"], float(T.L_sink_fallback.subs(subs)))
        out["L_diag_proved"] = max(out["L_diag_proved"], float(T.L_diag_fallback.subs(subs)))  # any C
    out["value_sink"] = float(T.VALUE_PAPER_CONSTANT["U_sink"].subs({T.r_eta: inst.r_eta, T.C: inst.C}))
    out["value_diag"] = float(T.VALUE_PAPER_CONSTANT["U_diag"].subs({T.r_eta: inst.r_eta, T.C: inst.C}))
    return out


def _verdict(lhs, rhs) -> Verdict:
    """Verdict on ``lhs <= rhs``; each side a number or a bracket (lo, hi) known to contain it.

    Numbers are widened by EXACT_RTOL * max(1, |x|) (rounding); the slack uses the upper ends."""
    if lhs is None or rhs is None:
        return Verdict("n/a", None)
    (l_lo, l_hi), (r_lo, r_hi) = (v if isinstance(v, tuple) else (v, v) for v in (lhs, rhs))
    if math.isinf(l_hi) and math.isinf(r_hi):
        return Verdict("n/a", None)
    tol = EXACT_RTOL * max(1.0, abs(r_hi) if math.isfinite(r_hi) else 1.0)
    if l_hi <= r_lo + tol:
        verdict = "holds"
    elif l_lo > r_hi + tol:
        verdict = "violated"
    else:
        verdict = "undecided"
    return Verdict(verdict, r_hi - l_hi)


def _winner(sink: PatternResult, diag: PatternResult) -> str:
    """The cheaper pattern: "sink" when the diagonal program is infeasible or OPT_sink's bracket lies
    wholly below OPT_diag's, "diag" when the reverse, "undecided" when the brackets overlap or a
    solve failed."""
    if diag.status == "infeasible":
        return "sink"
    if sink.status == "infeasible":
        return "diag"
    if "failed" in (sink.status, diag.status):
        return "undecided"
    if sink.opt_upper < diag.opt_lower:
        return "sink"
    if diag.opt_upper < sink.opt_lower:
        return "diag"
    return "undecided"


def _pattern_result(inst: SinkDiagInstance, pattern: str, fallback: bool, bv: dict[str, float]) -> PatternResult:
    """One pattern's chain: its min-cost program solved, its construction checked, four verdicts."""
    error, cons = None, margin_constraints(inst, pattern, fallback)  # built once: the solve and the construction's check
    try:
        sol = min_cost(inst, pattern, fallback, cons=cons)
        opt, opt_lower, status, used = sol.opt, sol.opt_lower, "optimal", sol.solver
        bracket = (opt_lower, opt)
    except InfeasibleError:
        opt, opt_lower, status, used = None, None, "infeasible", None
        bracket = math.inf
    except WideBracketError as err:  # no number reported; the bracket still decides what it can
        opt, opt_lower, status, used = None, err.lower, "bracket", None
        bracket = (err.lower, err.upper)
    except SolverError as err:  # this pattern's OPT is unknown; the other pattern's result stands
        opt, opt_lower, status, used = None, None, "failed", None
        bracket, error = None, f"{type(err).__name__}: {err}"
    try:
        con = construction(inst, pattern, fallback)
        ccost = con.cost
        cmargin = min(min_margin_by_kind(inst, con.form, pattern, fallback, cons).values())
    except InvalidInputError:  # Delta_diag <= 0: the diagonal construction does not exist
        ccost, cmargin = None, None
    valid = cmargin is not None and cmargin >= -FEAS_ATOL * inst.kappa
    lower, upper = bv["L_" + pattern], bv["U_" + pattern]
    verdicts = {
        Inequality.LOWER_OPT: _verdict(lower, bracket),
        Inequality.OPT_CONSTRUCTION: _verdict(bracket if status != "infeasible" else None, ccost if valid else None),
        Inequality.CONSTRUCTION_UPPER: _verdict(ccost if valid else None, upper),
        Inequality.OPT_UPPER: _verdict(bracket, upper) if status != "infeasible" else Verdict("violated", None),
    }
    return PatternResult(
        lower=lower, opt=opt, opt_lower=opt_lower, opt_upper=bracket[1] if isinstance(bracket, tuple) else None,
        construction=ccost, upper=upper, value_cost=bv["value_" + pattern], lower_proved=bv[f"L_{pattern}_proved"],
        status=status, solver=used, construction_min_margin=cmargin, construction_valid=valid, verdicts=verdicts,
        error=error)


def evaluate(inst: SinkDiagInstance, fallback: bool = True,
             qk: dict | None = None, progress: bool = False) -> Evaluation:
    """The chain for both patterns (see module docstring); ``qk`` overrides the bound expressions
    (used by the planted-error tests); ``progress`` shows a bar over the two solves on stderr.
    An instance whose evaluation cannot fit in memory is refused first (InvalidInputError)."""
    check_size(inst.dim, inst.C, inst.n.tolist(), inst.r_eta)
    bv = bound_values(inst, fallback, qk)
    sink, diag = (_pattern_result(inst, pattern, fallback, bv) for pattern in
                  tqdm(PATTERNS, disable=not progress, desc=f"min-cost programs (C = {inst.C})"))
    s, g = sink.opt, diag.opt
    return Evaluation(instance=inst.parameters(), fallback=fallback, sink=sink, diag=diag,
                      ratio_diag_over_sink=(g / s) if (s and g is not None) else None, winner=_winner(sink, diag))


def crossing_lambda(name: str, pattern: str, bound: str, lo: float, hi: float, **change) -> float:
    """The lam in [lo, hi] at which OPT of case ``name`` (its arguments updated by ``change``, the
    nuisance kept: it does not depend on lam) crosses the stated QK part of ``bound`` (Brent, lam to
    1e-5; OPT is the certified upper end, within SOLVER_RTOL of the lower one)."""
    args = {**CASES[name], **change}
    fallback = args.pop("fallback")

    def excess(lam: float) -> float:
        inst = sample_instance(**{**args, "lam": lam})
        return min_cost(inst, pattern, fallback).opt - bound_values(inst, fallback)[bound]

    return float(brentq(excess, lo, hi, xtol=1e-5))
