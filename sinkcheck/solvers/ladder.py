"""The solver ladder: certified solves of the margin program (:mod:`sinkcheck.solvers.program`),
attempt after attempt until one is certified (:mod:`sinkcheck.solvers.certify`).

Why a ladder. A solver's "optimal" does not by itself give SOLVER_RTOL: on badly scaled programs an
interior-point solver's dual can be off in operator norm, which the certificate exposes, and on
rank-one optima it can stall at "almost solved"; a first-order solver converges slowly on them. So
:func:`solve` runs the attempts of :data:`ATTEMPTS` in order and stops at the first certified gap
<= SOLVER_RTOL: SCS with the margins rescaled so that OPT is about 1 (:data:`RESCALED`; a
first-order solver's iteration count depends on the scale of the solution), in stages of
decreasing tolerance, each warm-started from the last; then Clarabel with several settings (skipped
on programs wider than :data:`CLARABEL_MAX_R`); and, only when no attempt ended optimal, a long
unscaled SCS run (:data:`LAST_RESORT`). A :class:`Policy` can restrict the ladder to its SCS
attempts, drop the last resort, or put the Clarabel attempts first for programs on which SCS is
known to stall. Failing SOLVER_RTOL the best optimal attempt within MAX_GAP is returned; when no
attempt ends optimal, the certified iterates of the "optimal_inaccurate" attempts and the
feasibility LP's box solution give the bracket (largest lower end, smallest upper end). The
feasibility LP runs when an attempt fails or the certified upper bound is at least
1 / ILL_CONDITIONED (:mod:`sinkcheck.solvers.certify`). Which attempt wins changes only the
bracket's width, never its validity: every bracket comes from :func:`~sinkcheck.solvers.certify.certify`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import warnings
from dataclasses import dataclass, replace
from typing import Iterator, NamedTuple

import cvxpy as cp
import numpy as np
import scs
from cvxpy.reductions.solvers.conic_solvers.scs_conif import dims_to_solver_dict

from sinkcheck import validate
from sinkcheck.errors import InfeasibleError, SolverError, WideBracketError
from sinkcheck.solvers.certify import (ILL_CONDITIONED, MAX_GAP, SOLVER_RTOL, Bracket, Certified, box_bracket,
                                       box_margin, certify, dual_lower, feasibility, repair)
from sinkcheck.solvers.program import FORMS, program

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
"""Clarabel with tighter tolerances (its defaults are 1e-8), for badly scaled programs whose
default solve is certified only to a gap above MAX_GAP."""

REGULARISED = {"static_regularization_constant": 1e-7}
"""Clarabel with a stronger static KKT regularisation (default 1e-8), which ends optimal where the
default and tight attempts end "almost solved"."""

PRECISE = {"iterative_refinement_reltol": 1e-14, "iterative_refinement_abstol": 1e-14,
           "iterative_refinement_max_iter": 50}
"""Clarabel with each KKT solve refined to 1e-14 (defaults 1e-13 and 1e-12, 10 steps)."""

ESTIMATE = {"eps": 1e-2, "max_iters": 300}
"""SCS's settings for the short run that estimates OPT, the scale of the rescaled attempt
(:data:`RESCALED`); when it fails, the feasibility LP's certified lower bound is the scale."""

ESTIMATE_AGREEMENT = 0.1
"""How far (relative) the short run's value may lie from SCS's conic objective at the same iterate
for the run to be trusted as the scale and start of the rescaled attempt. The two agree only when
the iterate nearly meets the cone constraints that define the objective."""

UNIFORM_SCALE = ("split",)
"""The forms whose rescaled attempt takes OPT's scale from the weak-duality bound at y = 1,
K / ||G(1)||_op <= OPT (no solve), instead of the short run of :data:`ESTIMATE`. On the sink
programs SCS needs as many iterations from that bound as from the estimate; on the diagonal
programs the bound lies about 0.65 spread^2 below OPT, too far to start from."""

RESCALED = {"max_iters": 20_000, "rescale": True,
            "stages": {"kron": (1e-6, 1e-7, 1e-8, 1e-9), "split": (1e-6, 1e-7, 1e-8, 1e-9), "dual": (1e-8, 1e-9)}}
"""The first attempt, SCS on the margins z_x^T M w >= 1 / est (est the scale of :data:`ESTIMATE` or
:data:`UNIFORM_SCALE`), so that the optimum has norm about 1, at each tolerance of its form's
stages in turn, the first started from the short run's iterate moved to the new margins
(:func:`rescaled`), each other from the last, until a stage is certified to SOLVER_RTOL; the
stages share ``max_iters``. ``rescale`` and ``stages`` are this module's flags, not SCS settings."""

NEXT_STAGE_GAP = 1e-5
"""A staged attempt goes on to its last stage only when its best certified gap so far is in
(SOLVER_RTOL, NEXT_STAGE_GAP]: from farther, SCS stalls at the tightest tolerance."""

CLARABEL_MAX_R = 56
"""Widest program (r = Z.shape[1]) given to Clarabel, whose time grows about as r^4.5, and r = 56
(C = 24 at r_eta = 6) is the widest it solves within a minute and a few GB."""

SCS_LINEAR_SOLVER = "qdldl"
"""The linear-system solver SCS factorises its KKT matrix with (SCS's own sparse LDL^T), which is
faster on these programs than MKL's Pardiso, SCS's default where the wheel ships it."""

LAST_RESORT = ("SCS", {"eps": 1e-9, "max_iters": 200_000})
"""The ladder's last attempt, run only when no other attempt ended optimal (slow on badly scaled
programs)."""

ATTEMPTS = (("SCS", RESCALED), ("CLARABEL", {}), ("CLARABEL", TIGHT), ("CLARABEL", REGULARISED),
            ("CLARABEL", TIGHT | REGULARISED), ("CLARABEL", PRECISE),
            ("CLARABEL", {"dynamic_regularization_enable": False}), LAST_RESORT)
"""The solver ladder of the module docstring, in order."""

ATTEMPT_SETS = ("all", "scs")
"""Which attempts of :data:`ATTEMPTS` a :class:`Policy` runs: all of them, or the SCS ones only."""


@dataclass(frozen=True)
class Policy:
    """How :func:`solve` runs the ladder (module docstring).

    Attributes:
        attempts: "all" (:data:`ATTEMPTS`, starting with the rescaled SCS attempt) or "scs" (its
            SCS attempts only).
        last_resort: end with :data:`LAST_RESORT` when no other attempt ended optimal.
        form: the form (:data:`~sinkcheck.solvers.program.FORMS`) SCS is given the program in, and
            Clarabel when it runs first (after SCS it gets the kron form); None: the caller's
            choice for its program ("kron" in :func:`solve`).
        clarabel_first: run the Clarabel attempts before the SCS one, for programs on which SCS is
            known to stall; None: the caller's choice (False in :func:`solve`).
    """

    attempts: str = "all"
    last_resort: bool = True
    form: str | None = None
    clarabel_first: bool | None = None

    def __post_init__(self) -> None:
        validate.choice("attempts", self.attempts, ATTEMPT_SETS)
        if self.form is not None:
            validate.choice("form", self.form, FORMS)

    def given(self, form: str, clarabel_first: bool) -> Policy:
        """This policy with its open choices (None) made: ``form`` and ``clarabel_first``."""
        return replace(self, form=form if self.form is None else self.form,
                       clarabel_first=clarabel_first if self.clarabel_first is None else self.clarabel_first)


class Outcome(NamedTuple):
    """An attempt's result: its certified bracket, the solver and the solver's status."""

    bracket: Bracket
    solver: str
    status: str


class InaccurateSolve(SolverError):
    """An attempt that ended "optimal_inaccurate": not a result, but its iterate (M, y) may still be
    certified by weak duality, which :func:`solve` does when no attempt ends optimal."""

    def __init__(self, message: str, M: np.ndarray, y: np.ndarray):
        super().__init__(message)
        self.M, self.y = M, y


def solve(Z: np.ndarray, cons, policy: Policy = Policy(), what: str = "margin program") -> Certified:
    """Certified min ||M||_* s.t. Z[x]^T M (Z[t] - Z[y]) >= 1 for each (x, t, y) of ``cons`` (module docstring).

    Args:
        Z: scaled token coordinates (n, r), entries of order 1.
        cons: index arrays ``query``, ``target``, ``competitor`` into the rows of Z.
        policy: which attempts run, in which order and form (:class:`Policy`).
        what: the program's name in error messages.
    Raises:
        InfeasibleError: the feasibility LP proves that no M meets the constraints.
        IllConditionedError: too badly conditioned (t* < ILL_CONDITIONED); the error carries a
            certified lower bound on OPT from the feasibility LP's dual.
        WideBracketError: the best certified bracket (of an optimal attempt, or when none ended
            optimal of the inaccurate attempts' iterates and the feasibility LP) is wider than
            MAX_GAP; the bracket [lower, upper] is on the error.
        SolverError: otherwise, when no certified bracket can be had.
    """
    policy = policy.given("kron", False)
    t0, best, errors, t_star, inaccurate = time.perf_counter(), None, [], None, []
    for name, opts in ladder(Z.shape[1], policy):
        if opts is LAST_RESORT[1] and best is not None:
            break
        try:
            out = attempt(Z, cons, name, opts, policy.form if name == "SCS" or policy.clarabel_first else "kron")
        except SolverError as exc:  # an "infeasible" status included: the LP decides
            errors.append(str(exc))
            t_star = feasibility(Z, cons, what) if t_star is None else t_star
            if isinstance(exc, InaccurateSolve):  # its iterate may still be certified: kept for the fallback
                try:
                    inaccurate.append(Outcome(certify(Z, cons, exc.M, exc.y), name, "optimal_inaccurate"))
                except SolverError:
                    pass
            continue
        if best is None or out.bracket.gap < best.bracket.gap:
            best = out
        if out.bracket.upper - out.bracket.lower <= SOLVER_RTOL * out.bracket.upper:
            break
    if best is None:  # no attempt ended optimal: the certified iterates and the feasibility LP bracket OPT
        candidates = [Outcome(box_bracket(Z, cons), "feasibility LP", "optimal_inaccurate")] + inaccurate
        top = min(candidates, key=lambda o: o.bracket.upper)
        lower = max(o.bracket.lower for o in candidates)  # every lower end is certified: the largest holds
        if top.bracket.upper - lower > MAX_GAP * top.bracket.upper:
            raise WideBracketError(f"{what}: {errors[-1]} (but the feasibility LP found t* = {t_star:.2g} > 0, and "
                                   f"the certified iterates and the LP's box solution bracket OPT; best upper end: "
                                   f"{top.solver})", lower, top.bracket.upper)
        best = top._replace(bracket=top.bracket._replace(lower=lower))
    (Mf, upper, lower), name, status = best
    if upper * ILL_CONDITIONED >= 1.0 and t_star is None:  # only then can the LP refuse (certify's docstring)
        t_star = feasibility(Z, cons, what)
    if upper - lower > MAX_GAP * upper:
        raise WideBracketError(f"{what}: certified duality gap {(upper - lower) / upper:.2g} "
                               f"exceeds MAX_GAP = {MAX_GAP:g} (solver {name})", lower, upper)
    return Certified(Mf, upper, lower, name, status, t_star, time.perf_counter() - t0)


def ladder(r: int, policy: Policy = Policy()) -> list[tuple[str, dict]]:
    """The attempts :func:`solve` runs on an r-dimensional program under ``policy``, in order:
    :data:`ATTEMPTS` or its SCS attempts only; without the Clarabel attempts when r >
    :data:`CLARABEL_MAX_R`; with the Clarabel attempts first when ``policy.clarabel_first``;
    without :data:`LAST_RESORT` unless ``policy.last_resort``."""
    wide = r > CLARABEL_MAX_R
    run = [a for a in ATTEMPTS if (a[0] == "SCS" or policy.attempts == "all") and not (wide and a[0] == "CLARABEL")
           and (policy.last_resort or a is not LAST_RESORT)]
    if policy.clarabel_first:
        run.sort(key=lambda a: (a is LAST_RESORT, a[0] == "SCS"))  # stable: Clarabel's own order kept
    return run


def attempt(Z: np.ndarray, cons, solver: str, opts: dict, form: str = "kron") -> Outcome:
    """One rung of the ladder: solve with ``solver`` and ``opts``, then certify (with
    :func:`~sinkcheck.solvers.certify.repair` when the bracket is wider than SOLVER_RTOL); a staged
    attempt (:data:`RESCALED`) goes on until a stage is certified to SOLVER_RTOL, and on to its last
    stage only from a best gap <= NEXT_STAGE_GAP. Returns the stage with the smallest certified gap."""
    best, stages = None, opts.get("stages", {}).get(form, ())
    for k, (Mp, y, status) in enumerate(_solve(Z, cons, solver, opts, form)):
        b = certify(Z, cons, Mp, y)
        if b.upper - b.lower > SOLVER_RTOL * b.upper and (Mr := repair(Z, cons, Mp, y, b.lower)) is not None:
            b = min(b, certify(Z, cons, Mr, y), key=lambda c: c.gap)
        if best is None or b.gap < best.bracket.gap:
            best = Outcome(b, solver, status)
        gap = best.bracket.upper - best.bracket.lower
        if b.upper - b.lower <= SOLVER_RTOL * b.upper or (k + 2 == len(stages) and gap > NEXT_STAGE_GAP * best.bracket.upper):
            break
    return best


def _ended_inaccurate(message: str, prob, M_of, y_of) -> SolverError:
    """The error for an attempt whose first stage did not end optimal: an :class:`InaccurateSolve`
    carrying the iterate when the status is "optimal_inaccurate" and the iterate is finite."""
    if prob.status == cp.OPTIMAL_INACCURATE:
        try:
            M, y = np.asarray(M_of(), dtype=float), np.asarray(y_of(), dtype=float)
        except (TypeError, ValueError):
            return SolverError(message)
        if np.all(np.isfinite(M)) and np.all(np.isfinite(y)):
            return InaccurateSolve(message, M, y)
    return SolverError(message)


def _solve(Z: np.ndarray, cons, solver: str, opts: dict, form: str = "kron") -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """Solve min ||M||_* s.t. Z[x]^T M (Z[t] - Z[y]) >= rho for every constraint (x, t, y), rho = 1,
    or rho = 1 / est with ``opts["rescale"]`` (:data:`RESCALED`), given to the solver in ``form``.

    Yields M, the duals y of the margin constraints (the same for every rho) and the status, once,
    or once per tolerance of ``opts["stages"][form]``, each stage warm-started from the last (the
    first from the short run of ESTIMATE, moved by :func:`rescaled`) and all
    of them within ``opts["max_iters"]`` iterations; a stage that does not end optimal ends the
    attempt (a SolverError when it is the first)."""
    opts = dict(opts)
    rescale, stages = opts.pop("rescale", False), opts.pop("stages", {}).get(form)
    rho = cp.Parameter(nonneg=True, value=1.0)
    prob, M_of, y_of = program(Z, cons, form, rho)
    start = None
    if rescale:
        est, start = _estimate(prob, Z, cons, solver, form)
        rho.value = 1.0 / est
        start = rescaled(start, 1.0 / est)
    left = opts.get("max_iters")
    for k, eps in enumerate(stages or (None,)):
        start = _run(prob, solver, opts if eps is None else opts | {"eps": eps, "max_iters": left}, start)
        if prob.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE, cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
            raise InfeasibleError(f"infeasible (status {prob.status}" + (" of the dual program)" if form == "dual" else ")"))
        if prob.status != cp.OPTIMAL:
            if k == 0:
                raise _ended_inaccurate(f"solver {solver} ended with status {prob.status!r}", prob, M_of, y_of)
            return
        yield M_of(), y_of(), prob.status
        if stages:
            left -= prob.solver_stats.num_iters
            if left <= 0:
                return


def _estimate(prob, Z: np.ndarray, cons, solver: str, form: str) -> tuple[float, dict | None]:
    """OPT's scale for the rescaled attempt (:data:`RESCALED`) and the iterate to start it from:
    in the forms of :data:`UNIFORM_SCALE` the weak-duality bound at y = 1, K / ||G(1)||_op, when it
    is positive, and no iterate; otherwise the value of the short run (:data:`ESTIMATE`) of
    ``prob``, its margins at 1, and that run's iterate, or, when the run ends with no positive
    value or a value that its conic objective does not confirm (:data:`ESTIMATE_AGREEMENT`), the
    feasibility LP's certified lower bound sum(y) / ||G(y)||_op (:func:`~sinkcheck.solvers.certify.dual_lower` of
    :func:`~sinkcheck.solvers.certify.box_margin`'s duals) and no iterate. Raises SolverError when that bound is not positive
    either (the LP then decides feasibility, :func:`solve`)."""
    if form in UNIFORM_SCALE and (uniform := dual_lower(Z, cons, np.ones(len(cons)))) > 0:
        return uniform, None
    run = _run(prob, solver, ESTIMATE)
    est = prob.value if prob.value is not None else np.nan
    conic = abs(run["info"]["pobj"]) if run is not None else np.nan  # its objective in SCS's conic form
    if prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and np.isfinite(est) and est > 0 \
            and abs(est - conic) <= ESTIMATE_AGREEMENT * est:
        return float(est), run
    lower = dual_lower(Z, cons, box_margin(Z, cons)[1])
    if not lower > 0:
        raise SolverError(f"solver {solver}: no estimate of OPT to rescale by (status {prob.status!r}; "
                          f"feasibility LP's lower bound {lower:.2g})")
    return lower, None


def rescaled(run: dict | None, f: float) -> dict | None:
    """SCS's iterate (x, y, s) of a program with margins rho, moved to the same program with margins
    f rho: every constant of the program's conic form is a multiple of rho (the margins, and in the
    dual form the blocks rho I), so its primal x and slack s scale by f and its dual y does not
    (a warm start of the rescaled attempt, :data:`RESCALED`)."""
    return None if run is None else {"x": f * run["x"], "y": run["y"], "s": f * run["s"]}


def _run(prob, solver: str, opts: dict, start: dict | None = None) -> dict | None:
    """prob.solve with ``solver`` and ``opts``; a solver's crash is a SolverError. SCS is called
    through its own interface on cvxpy's problem data, so that it can start from ``start`` (an
    iterate x, y, s of the same conic form, cold when None), and its iterate is returned for the next
    start (None for Clarabel)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cvxpy warns on inaccurate solves; the status says it
        try:
            if solver != "SCS":
                prob.solve(solver=solver, **opts)
                return None
            data, chain, inverse = prob.get_problem_data(cp.SCS)
            settings = {"linear_solver": SCS_LINEAR_SOLVER} | {k: v for k, v in opts.items() if k != "eps"} | {"verbose": False}
            if "eps" in opts:
                settings |= {"eps_abs": opts["eps"], "eps_rel": opts["eps"]}
            problem = {"A": data["A"], "b": data["b"], "c": data["c"]} | (start or {})
            with _stdout_silenced():  # SCS prints "Failure:<why>" from C even when not verbose
                run = scs.solve(problem, dims_to_solver_dict(data["dims"]), **settings)
            if run["info"]["status_val"] == SCS_SIGINT:
                _interrupted()
            prob.unpack_results(run, chain, inverse)
            return run
        except cp.error.SolverError as exc:
            raise SolverError(f"solver {solver} failed: {exc}") from None


SCS_SIGINT = -5
"""SCS's status when a SIGINT came during its solve. SCS catches Ctrl-C itself (its own handler
while it runs), so the status is all that is left of it."""


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """File descriptor 1 on the null device meanwhile: stdout is the user's (a table, JSON), and the
    status already says what a C library would print there."""
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def _interrupted() -> None:
    """A Ctrl-C that SCS caught is the user's: KeyboardInterrupt, as if SCS had not been there. In a
    process that ignores SIGINT (a sweep's worker, whose client handles Ctrl-C) it is a failed solve."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        raise SolverError("solver SCS was interrupted (SIGINT)")
    raise KeyboardInterrupt
