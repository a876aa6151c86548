"""The margin program min ||M||_* s.t. z_x^T M (z_t - z_y) >= 1 for every constraint (x, t, y):
solved, certified by weak duality, or refused (docs/cost_identity.md, docs/sink_vs_diagonal.md, docs/sink_geometry.md).

Both convex programs of sinkcheck have this form once the tokens are written in an orthonormal basis
of their span and scaled to O(1) coordinates: the minimum-cost sink and diagonal patterns of
:mod:`sinkcheck.construct.sinkdiag.min_cost` (Section 7) and the cheapest sink of
:func:`sinkcheck.construct.sink_lp.min_nuclear_sink` (Prop. 4.1, target the sink z_0). The
caller passes the scaled coordinates Z (one row per token) and the constraint triples, and maps
the returned M back to W.

Forms (:data:`FORMS`). In the "kron" form constraint k is one sparse row of vec(M): kron(z_x, w_k)
with w_k = z_t - z_y, whose nonzeros are the products of the nonzero coordinates of z_x and w_k (a
few, in the span coordinates). In the "split" form every query x with more than one nonzero
coordinate gets an auxiliary row v_x = z_x^T M (r equality constraints) and its constraints read
v_x . w_k >= 1, rows with the nonzeros of w_k only; queries with one nonzero coordinate keep their
kron rows. The "dual" form solves the dual program max 1^T y s.t. ||G(y)||_op <= 1, y >= 0
(G below), whose variables are the y of the certificate, and reads M off the multiplier of its PSD
constraint. All three have the same OPT, and the certificate below is computed from the exact
coordinates whatever form produced M and y; only the solver's time differs (:data:`FORMS` has the
measurements).

Certificate (weak duality). For any y >= 0 and G = sum_k y_k z_{x_k} w_k^T, every feasible M
has sum_k y_k <= <G, M> <= ||G||_op ||M||_*, so LB = sum(y) / ||G||_op <= OPT. The solver's
M divided by its smallest constraint value is feasible, so its norm UB >= OPT. A solve is
reported only when the status is optimal and the certified gap (UB - LB) / UB is small.

Repair. A first-order solver meets the margins only to a tolerance relative to the size of its
iterate. On the badly scaled diagonal programs, whose optimum has a block of order spread^2 next to
entries of order 1 (:data:`sinkcheck.construct.sinkdiag.min_cost.BADLY_SCALED`), SCS leaves the well-scaled
margins short by up to 1e-5 while its dual is accurate, and dividing M by its smallest value costs
the whole M that factor. So when a bracket is wider than SOLVER_RTOL but the solver's own ||M||_*
(at the margin it aimed at) is within SOLVER_RTOL of LB, the attempt also certifies
:func:`repair`'s M + Delta, Delta the smallest in entrywise l1 norm that lifts every margin back to 1
(an LP; ||M + Delta||_* <= ||M||_* + sum_ij abs(Delta_ij)), and keeps the narrower bracket. The
repair only proposes an M: its bracket is computed by :func:`certify` like any other. Measured on
the C = 32, d = 16384 diagonal program (n = 3, r_eta = 6, seed 0): SCS at eps 1e-8 left a smallest
margin of 1 - 9.5e-6 on constraints with ||w_k|| = 1.41 (the group mates' margins, ||w_k|| ~ 0.014, were
met to 4e-8), a certified gap of 9.5e-6; the repair (2.1 s, Delta of l1 norm 1.4e-4 on 125 entries)
certified 1.5e-7.

Feasibility, decided when it matters. M = 0 meets every constraint with value 0, so the LP t* = max t
subject to every constraint value >= t and max_ij abs(M_ij) <= 1 has t* >= 0, and the program is
feasible iff t* > 0 (any feasible M scaled into the box gives t > 0). HiGHS solves this LP exactly
enough to decide it: t* <= INFEASIBLE_ATOL is reported as infeasible, t* < ILL_CONDITIONED as a
refusal (OPT would be of order 1/t* and no solve is trustworthy there). The LP's duals y >= 0 are a
weak-duality certificate of the margin program as well, so a refusal still carries the certified
lower bound sum(y) / ||G(y)||_op <= OPT (which also scales the rescaled attempt when SCS cannot
estimate OPT, :data:`ESTIMATE`). The LP runs only when an attempt or its estimate run fails, or when the
certified upper bound is at least 1 / ILL_CONDITIONED: a feasible M with ||M||_* = UB, divided by
max_ij abs(M_ij) <= UB, lies in the box with every value >= 1 / UB, so t* >= 1 / UB, and a certified
UB < 1 / ILL_CONDITIONED proves that the LP would neither refuse the instance nor find it infeasible.

Attempts. A solver's "optimal" does not by itself give SOLVER_RTOL: on badly scaled instances
(OPT ~ 1e5 kappa) Clarabel's dual is off by up to ~1e-4 in operator norm, which the certificate
exposes; and on rank-one optima it can stall at "almost solved". So a solve runs down a short
ladder (:data:`ATTEMPTS`) and stops at the first certified gap <= SOLVER_RTOL: SCS with the margins
rescaled so that OPT is about 1 (:data:`RESCALED`; the first-order solver's iteration count depends
on the scale of the solution, and the diagonal programs' OPT ~ 500 costs it 3 to 10 times more
iterations unscaled; the scale comes from a short SCS run, or in the split form from a weak-duality
bound, :data:`UNIFORM_SCALE`), in stages of decreasing tolerance, the first started from the short
run's last iterate moved to the new margins (:func:`rescaled`) and each of the others from the last,
until one is certified; Clarabel
(programs wider than :data:`CLARABEL_MAX_R` skip the Clarabel attempts, whose cost grows as r^4.5); Clarabel with tighter tolerances; Clarabel with a stronger static
regularisation of its KKT systems, alone and with the tighter tolerances; Clarabel with more
precise KKT solves; Clarabel without dynamic regularisation; and, only when no attempt ended
optimal, a long unscaled SCS run. A caller that knows SCS to stall on its program (the badly scaled
diagonal programs of :data:`sinkcheck.construct.sinkdiag.min_cost.BADLY_SCALED`) puts the Clarabel attempts
before the SCS one (:func:`ladder`). Failing SOLVER_RTOL it returns the best optimal attempt whose gap
is <= MAX_GAP, and the caller compares claims with the bracket [lower, upper], never with a
tolerance. When no attempt ends optimal, the iterates of the attempts that ended
"optimal_inaccurate" are certified too, and with the feasibility LP's box solution they give the
bracket (largest lower end, smallest upper end): returned within MAX_GAP, on a WideBracketError
otherwise. Which attempt wins changes only the bracket's width,
never its validity: every bracket is computed by :func:`certify` from the exact coordinates.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Iterator

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
import scs
from cvxpy.reductions.solvers.conic_solvers.scs_conif import dims_to_solver_dict
from scipy.optimize import linprog

from sinkcheck import validate
from sinkcheck.errors import IllConditionedError, InfeasibleError, SolverError, WideBracketError

SOLVERS = ("CLARABEL", "SCS")
SOLVER_RTOL = 1e-6
"""Target relative accuracy of OPT, certified per solve as (UB - LB) / UB <= SOLVER_RTOL."""

MAX_GAP = 1e-4
"""Largest certified relative gap a returned solve may have (badly scaled instances); above it the
solve is an error. Claims are checked against the bracket [opt_lower, opt] itself."""

INFEASIBLE_ATOL = 1e-12
"""Best box margin t* at or below which the program is reported infeasible."""

ILL_CONDITIONED = 1e-8
"""Best box margin t* below which an instance is refused as too badly conditioned to solve (two
group mates whose nuisance differs by 1e-3 delta give t* ~ 7e-8 and OPT ~ 1e7 kappa, which Clarabel
still certifies; at 1e-4 delta, t* ~ 7e-10, Clarabel wrongly reports the program infeasible)."""

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
"""Clarabel's tighter tolerances (its defaults are 1e-8). On the instance pinned in
tests/test_margin_program.py (OPT ~ 8e3 in scaled units) Clarabel's default solve certified a gap
of 3.1e-4 and this one 2.4e-6 (measured on the program's earlier form, with one auxiliary row per
query)."""

REGULARISED = {"static_regularization_constant": 1e-7}
"""Clarabel with a static KKT regularisation of 1e-7 (default 1e-8). Measured on the program's
earlier form (one auxiliary row per query), on twelve C = 8 programs (d = 22, n = 3, r_eta = 3, seeds 0, 1, 2, 5, 1089, 3137, both
patterns): the default and tight attempts certify a gap <= SOLVER_RTOL on 5 of them (the others end
"almost solved", optimal_inaccurate in cvxpy, or with a wider gap), this one on 11, in about the
same time.  The dev profile found two of them (tests/test_sinkdiag_bounds.py)."""

PRECISE = {"iterative_refinement_reltol": 1e-14, "iterative_refinement_abstol": 1e-14,
           "iterative_refinement_max_iter": 50}
"""Clarabel with each KKT solve refined to 1e-14 (defaults 1e-13 and
1e-12, 10 steps)."""

ESTIMATE = {"eps": 1e-2, "max_iters": 300}
"""SCS's settings for the short run that estimates OPT before the rescaled attempt (its value is
within a few per cent of OPT on the Section 7 programs, measured in benchmarks/bench_min_cost.py).
On badly scaled diagonal programs at large d (n = 3, r_eta = 6, seed 0, kron form: C = 2, 4, 8 and 24
at d = 16384, C = 2 ... 24 at d = 65536) it ends "infeasible_inaccurate" in 0.03-2 s, and the
rescaled attempt then takes the feasibility LP's lower bound as OPT's scale. Measured at C = 32,
d = 16384 (r = 71, so no Clarabel; OPT ~ 6.6e4 in the program's units, LP bound 4.0e4), rescaled by
that bound: the kron form certifies a gap of 9.5e-6 at eps 1e-8 (100 s) and 7.5e-6 at eps 1e-9
(148 s in all), before the stages from 1e-6 and :func:`repair` (:data:`RESCALED`). Before the bound was used, the ladder went on to :data:`LAST_RESORT`, which ended
"optimal_inaccurate" after 21 minutes, and the program was refused. (Those runs used MKL's linear
solver; with :data:`SCS_LINEAR_SOLVER` the C = 32, d = 16384 run ends "optimal_inaccurate" with a
value that its conic objective does not confirm, :data:`ESTIMATE_AGREEMENT`, and the LP's bound is
taken all the same.)"""

ESTIMATE_AGREEMENT = 0.1
"""How far (relative) the short run's value, the program's objective at its iterate (||M||_*, or
sum(y) in the dual form), may lie from the objective of SCS's conic form at the same iterate for
the run to be trusted as the scale and start of the rescaled attempt (:data:`RESCALED`). The two
agree only when the iterate nearly meets the cone constraints that define the objective (for
||M||_*, the PSD block of its epigraph). Measured (diagonal programs, n = 3, r_eta = 6,
:data:`SCS_LINEAR_SOLVER`): within 0.8 % on every run that ended with a positive value at d = 128
(C = 12, 24, 32) and d = 1024 (C = 16), but 20,939 against 4,464 at C = 32, d = 16384 (kron form,
seed 0), where OPT is about 6.6e4. Started from that run's
iterate and scale, the stages took 2,050 + 10,450 iterations; from the LP's bound, cold, 2,525 +
1,825 (min_cost 51 s)."""

UNIFORM_SCALE = ("split",)
"""The forms whose rescaled attempt (:data:`RESCALED`) takes OPT's scale from the weak-duality bound
at y = 1, K / ||G(1)||_op <= OPT (:func:`dual_lower`, no solve), instead of the short run of
:data:`ESTIMATE`. On the sink programs (split form) the bound is 2.4 times below OPT at C = 4 (d = 128
and 16384, seeds 0 to 2; 0.32 to 0.22 of OPT at C = 8 to 20, d = 128), and SCS needs as many
iterations from it as from the estimate, so the estimate run (150 to 300 iterations) was time lost. On the diagonal programs the
bound lies about 0.65 spread^2 below OPT (:func:`spread`; n = 3, r_eta = 6, C = 4: 29 to 32 times at
d = 64, 56 to 63 at d = 128, 110 to 124 at d = 256), and SCS's iterations from it vary too much: in
the dual form (C = 4, seed 0, eps 1e-8) 975 against 1,425 from OPT itself at d = 128, but 6,025
against 925 at d = 256, so the kron and dual forms keep the estimate run. Measured (n = 3,
r_eta = 6, 2 cores; seconds of the whole min_cost call):

- sink programs, split form (d = 128, seeds 0, 1): 150 to 250 iterations either way; 0.33 -> 0.20 s
  at C = 8, 0.72 -> 0.36 s at C = 12, 1.78 -> 1.02 s at C = 20.
- diagonal programs, dual form, with the bound: C = 12, d = 128: 2.3, 2.8, 3.2 s against 3.5, 3.5,
  3.8 s (seeds 0 to 2); C = 4, d = 256: 1.49, 0.41, 0.49 s against 0.50, 0.41, 0.35 s. With the bound
  times the spread (about spread / 1.5 below OPT), C = 4, d = 256: 0.19, 0.92, 0.47 s; C = 16, d = 256:
  15.9, 9.7, 8.9 s against 94.7 (the SCS attempt was not certified, Clarabel was), 10.7, 10.6 s.
- diagonal programs, kron form (d = 128, C = 8 and 12, seeds 0 and 1): 2,325 to 6,250 iterations
  with the bound against 1,475 to 3,500 (C = 12, seed 0: 9.2 s against 5.4 s)."""


RESCALED = {"max_iters": 20_000, "rescale": True,
            "stages": {"kron": (1e-6, 1e-7, 1e-8, 1e-9), "split": (1e-6, 1e-7, 1e-8, 1e-9), "dual": (1e-8, 1e-9)}}
"""The settings of the first attempt, SCS on the margins z_x^T M w >= 1 / est (est the bound of
:data:`UNIFORM_SCALE` in the split form; in the others the value of the short run of
:data:`ESTIMATE`, or the feasibility LP's lower bound when that run fails), so that the optimum
has norm about 1;
``rescale`` and ``stages`` are this module's flags, not SCS settings. The attempt solves at the
first tolerance of its form's stages, starting from the short run's last iterate moved to the
margins 1 / est (:func:`rescaled`; cold when there was no short run or it failed), certifies
(with :func:`repair` when it applies), and goes on
at the next tolerance from where it stopped (a warm start) until a stage is certified to
SOLVER_RTOL; it goes on to its last stage only from a certified gap <= :data:`NEXT_STAGE_GAP`, and
its stages share ``max_iters`` iterations. Measured (n = 3, r_eta = 6, seed 0, 2 cores; seconds of
the whole min_cost call):

- Rescaling: at C = 12 the diagonal program (OPT ~ 500) takes 23,300 SCS iterations unscaled and
  4,375 rescaled.
- Starting from the short run's iterate: on the C = 12 diagonal programs (dual form, d = 128,
  seeds 0 to 3) the first stage took 1,250, 1,225, 1,500 and 1,525 iterations from it against
  2,025, 1,625, 2,225 and 1,825 cold; min_cost 2.4 to 2.9 s against 3.3 to 3.7 s (seeds 0 to 3,
  SCS's linear solver then MKL's, :data:`SCS_LINEAR_SOLVER`). Before the start was moved (cvxpy's
  own warm start, at the short run's margins, and only after a run that ended "solved") it saved
  iterations on one seed of six.
- The kron form from 1e-6: on the C = 32, d = 16384 diagonal program, eps 1e-6 and then 1e-7 took
  4,125 + 2,425 iterations (the repair certified 7.2e-7), where eps 1e-7 from the start took 10,200
  and eps 1e-8 13,200; min_cost 110 to 113 s, against 212 s starting at 1e-8 with the repair (and
  1e-9 after it, 7.5e-6, before the repair). At C = 32, d = 128 it costs a restart: 21.3 s against
  17.8 s starting at 1e-8 before the repair (450 + 75 iterations against 550). On the sink programs (split form) both start the same
  (C = 12 and 32, d = 128: certified at the first stage, 0.9 s and 6.6 s either way).
- The dual form from 1e-8: starting at 1e-6 there ends the stages at 1e-7 and 1e-8 after 25 to 75
  iterations with gaps of 3e-5 to 5e-5 (C = 12 and 16, d = 128), where 1e-8 from the start certifies
  1.4e-8 in 1,975 iterations; min_cost at C = 16, seed 1: 8.3 s, against 98.7 s from 1e-6 (the
  stages stopped short of 1e-9 and Clarabel certified the program)."""

NEXT_STAGE_GAP = 1e-5
"""A staged attempt (:data:`RESCALED`) goes on to its last stage (eps 1e-9) only when its best
certified gap so far is in (SOLVER_RTOL, NEXT_STAGE_GAP]. From farther SCS stalls (measured when
the stages were 1e-8 and 1e-9, before :func:`repair`): on the C = 4, d = 4096 diagonal program (n = 3, r_eta = 6,
seed 0; OPT ~ 1e4 in the program's units, which the short estimate run put at 4e3) eps 1e-8
certifies a gap of 2.1e-5, eps 1e-9 then runs 20,000 iterations (1.8 s) without ending optimal, and
Clarabel certifies the program in 22 iterations (0.24 s). On the C = 12 diagonal programs of seeds
0 to 5 (d = 128), eps 1e-8 left two gaps above SOLVER_RTOL, 3.6e-6 and 1.7e-6, which eps 1e-9 closed
(8.2e-8 and 5.3e-7)."""

CLARABEL_MAX_R = 56
"""Widest span basis (r = Z.shape[1]) given to Clarabel; wider programs run the SCS attempts only.
Clarabel's time grows about as r^4.5 on the sink program (n = 3, r_eta = 6, seed 0): 1.1 s at
r = 23 (C = 8), 25 s at r = 47 (C = 20), 56 s and 2.1 GB at r = 55 (C = 24); at r = 71 (C = 32)
one attempt ran for minutes with 5.7 GB."""

SCS_LINEAR_SOLVER = "qdldl"
"""The linear-system solver SCS factorises its KKT matrix with (SCS's own sparse LDL^T). SCS's
default picks MKL's Pardiso where the wheel ships it, which was slower here: at C = 32, d = 128 (kron
form, n = 3, r_eta = 6, seed 0, 300 iterations at eps 1e-6) 1.80 s of set-up and 2.43 s of linear
solves against 0.32 s and 1.51 s; on the C = 12 dual program 0.20 s of linear solves against 0.14 s."""

LAST_RESORT = ("SCS", {"eps": 1e-9, "max_iters": 200_000})
"""The ladder's last attempt, run only when no other attempt ended optimal (slow on badly scaled
instances)."""

ATTEMPTS = (("SCS", RESCALED), ("CLARABEL", {}), ("CLARABEL", TIGHT), ("CLARABEL", REGULARISED),
            ("CLARABEL", TIGHT | REGULARISED), ("CLARABEL", PRECISE),
            ("CLARABEL", {"dynamic_regularization_enable": False}), LAST_RESORT)
"""The solver ladder of the module docstring."""

FORMS = ("kron", "split", "dual")
"""The three forms of the program (module docstring), which differ only in the solver's time.
Measured with the rescaled SCS attempt on the family of benchmarks/bench_min_cost.py (n = 3,
r_eta = 6, d = 128), seeds 0, 1, 2 unless said (seconds of the whole min_cost call), when every form
had the stages 1e-8, 1e-9 and there was no :func:`repair` (:data:`RESCALED` and :data:`UNIFORM_SCALE` have what changed since):

- sink programs: "split" 0.13 to 0.15 s at C = 8 (kron 0.15 to 0.17), 0.29 to 0.33 s at C = 12
  (0.37 to 0.39), 0.69 to 0.74 s at C = 20 (0.99 to 1.07), 1.8 to 2.0 s at C = 32 (3.1 to 3.2; dual
  3.0 to 3.1): the dormant queries' rows have about 8 nonzeros instead of 56, and SCS's factorisation
  at C = 32 takes 0.2 s instead of 0.8 s;
- diagonal programs: "dual" 0.49 to 0.69 s at C = 8 (kron 0.59 to 0.95), 1.2 to 1.3 s at C = 12
  (1.7 to 3.2), 2.2 to 2.8 s at C = 16 over seeds 0 to 5 (kron 1.8 to 8.6 s, and 57 s on seed 2, where
  the SCS attempt was not certified and Clarabel was), 5.3 s at C = 24 (kron 3.2 to 10.9 s), but 10
  to 11.5 s at C = 32 (kron 5.5 to 7.5 s): about 2,000 SCS iterations at every C, against 850 to
  12,000 for kron. The split form needed 1.2 to 3.3 times kron's iterations on the diagonal programs.

Clarabel is given the chosen form only when its attempts run first (``clarabel_first``, measured in
:data:`sinkcheck.construct.sinkdiag.min_cost.BADLY_SCALED`); after the SCS attempt they solve the kron form,
the form their settings were chosen on. On a sampled diagonal program where SCS ends without a
certified gap in either form (d = 29, C = 12, n = 3, r_eta = 2, lam = 0.8, kappa = 3, seed 3, not
centred), the ladder took 25 s and certified a gap of 3e-8 in the kron form (Clarabel's first
attempt), against 43 s and a gap of 1.3e-6 in the dual form. (Its spread is 145, so min_cost now
runs Clarabel first on it, in the dual form: 24.6 s against 9.6 s in the kron form, the largest
difference in the kron form's favour measured.)

On the small, often badly conditioned programs that the property tests sample (d = 2C + 1 + r_eta
plus 0 to 3, lam up to 20) neither form of the diagonal program wins: SCS runs its 20,000
iterations without a certified gap in both forms on many of them, and over 40 such programs the
whole ladder took 55.9 s in the dual form and 63.9 s in the kron form, while the two thorough-profile
tests of tests/test_sinkdiag_bounds.py that solve it took 178 s and 146 s (hypothesis seed 7). These
were measured with SCS first on every program; since then the badly scaled ones (24 of those 40)
run Clarabel first (:data:`sinkcheck.construct.sinkdiag.min_cost.BADLY_SCALED`).

:func:`sinkcheck.construct.sinkdiag.min_cost.program_form` picks the form from these numbers."""


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


@dataclass(frozen=True)
class Certified:
    """A certified solve of the scaled program: M meets every constraint (value >= 1), and
    lower <= OPT <= upper = ||M||_*; t_star is the feasibility LP's best box margin, or None when the
    LP was not needed (then t* >= 1 / upper, module docstring)."""

    M: np.ndarray
    upper: float
    lower: float
    solver: str
    status: str
    t_star: float | None
    seconds: float


def solve(Z: np.ndarray, cons, solver: str = "CLARABEL", retry_scs: bool = True,
          what: str = "margin program", form: str = "kron", clarabel_first: bool = False) -> Certified:
    """Certified min ||M||_* s.t. Z[x]^T M (Z[t] - Z[y]) >= 1 for each (x, t, y) of ``cons`` (module docstring).

    Args:
        Z: scaled token coordinates (n, r), entries of order 1.
        cons: index arrays ``query``, ``target``, ``competitor`` into the rows of Z.
        solver: "CLARABEL" (the whole ladder of :data:`ATTEMPTS`, which starts with the rescaled
            SCS attempt) or "SCS" (its SCS attempts only).
        retry_scs: end the ladder with :data:`LAST_RESORT` when no other attempt ended optimal.
        what: the program's name in error messages.
        form: "kron", "split" or "dual" (:data:`FORMS`): how the program is given to SCS, and to
            Clarabel when it runs first (after SCS it is given the kron form, :data:`FORMS`).
        clarabel_first: run the Clarabel attempts before the SCS one (:func:`ladder`), for programs
            on which SCS is known to stall.
    Raises:
        InfeasibleError: the feasibility LP proves that no M meets the constraints.
        IllConditionedError: too badly conditioned (t* < ILL_CONDITIONED); the error carries a
            certified lower bound on OPT from the feasibility LP's dual.
        WideBracketError: the best optimal attempt's certified gap exceeds MAX_GAP, or no attempt
            ended optimal and the certified iterates of the "optimal_inaccurate" attempts together
            with the feasibility LP (:func:`box_bracket`) bracket OPT no tighter than MAX_GAP (the
            largest lower end and the smallest upper end; within MAX_GAP that bracket is returned,
            with status "optimal_inaccurate"); the bracket [lower, upper] is on the error.
        SolverError: otherwise, when no certified bracket can be had.
    """
    validate.choice("solver", solver, SOLVERS)
    validate.choice("form", form, FORMS)
    t0, best, errors, t_star, inaccurate = time.perf_counter(), None, [], None, []
    for name, opts in ladder(Z.shape[1], solver, retry_scs, clarabel_first):
        if opts is LAST_RESORT[1] and best is not None:
            break
        try:
            Mf, upper, lower, status = attempt(Z, cons, name, opts, form if name == "SCS" or clarabel_first else "kron")
        except SolverError as exc:  # an "infeasible" status included: the LP decides
            errors.append(str(exc))
            t_star = _decided(Z, cons, what) if t_star is None else t_star
            if isinstance(exc, InaccurateSolve):  # its iterate may still be certified: kept for the fallback
                try:
                    inaccurate.append((*certify(Z, cons, exc.M, exc.y), name))
                except SolverError:
                    pass
            continue
        if best is None or (upper - lower) / upper < (best[1] - best[2]) / best[1]:
            best = (Mf, upper, lower, name, status)
        if upper - lower <= SOLVER_RTOL * upper:
            break
    if best is None:  # no attempt ended optimal: the certified iterates and the feasibility LP bracket OPT
        Mb, ub, lb = box_bracket(Z, cons)
        Mf, upper, name = min([(Mb, ub, "feasibility LP")] + [(m, u, n) for m, u, _, n in inaccurate], key=lambda c: c[1])
        lower = max([lb] + [low for _, _, low, _ in inaccurate])  # every lower end is certified: the largest holds
        if upper - lower > MAX_GAP * upper:
            raise WideBracketError(f"{what}: {errors[-1]} (but the feasibility LP found t* = {t_star:.2g} > 0, and "
                                   f"the certified iterates and the LP's box solution bracket OPT; best upper end: "
                                   f"{name})", lower, upper)
        best = (Mf, upper, lower, name, "optimal_inaccurate")
    Mf, upper, lower, name, status = best
    if upper * ILL_CONDITIONED >= 1.0 and t_star is None:  # only then can the LP refuse (module docstring)
        t_star = _decided(Z, cons, what)
    if upper - lower > MAX_GAP * upper:
        raise WideBracketError(f"{what}: certified duality gap {(upper - lower) / upper:.2g} "
                               f"exceeds MAX_GAP = {MAX_GAP:g} (solver {name})", lower, upper)
    return Certified(Mf, upper, lower, name, status, t_star, time.perf_counter() - t0)


def spread(Z: np.ndarray, cons) -> float:
    """max_k ||w_k|| / min_k ||w_k|| over the constraint directions w_k = z_t - z_y (inf when some w_k = 0):
    how badly scaled the program is for SCS (:data:`sinkcheck.construct.sinkdiag.min_cost.BADLY_SCALED`)."""
    w = np.linalg.norm(Z[cons.target] - Z[cons.competitor], axis=1)
    return float(w.max() / w.min()) if w.min() > 0 else np.inf


def ladder(r: int, solver: str = "CLARABEL", retry_scs: bool = True, clarabel_first: bool = False) -> list[tuple[str, dict]]:
    """The attempts :func:`solve` runs on an r-dimensional program, in order: :data:`ATTEMPTS`, or
    only its SCS attempts for ``solver="SCS"``; without the Clarabel attempts when r >
    :data:`CLARABEL_MAX_R`; with the Clarabel attempts before the SCS one when ``clarabel_first``;
    without :data:`LAST_RESORT` unless ``retry_scs``."""
    wide = r > CLARABEL_MAX_R
    run = [a for a in ATTEMPTS if (a[0] == solver or solver == "CLARABEL") and not (wide and a[0] == "CLARABEL")
           and (retry_scs or a is not LAST_RESORT)]
    if clarabel_first:
        run.sort(key=lambda a: (a is LAST_RESORT, a[0] == "SCS"))  # stable: Clarabel's own order kept
    return run


def _decided(Z: np.ndarray, cons, what: str) -> float:
    """The feasibility LP's t* (module docstring); raises InfeasibleError or IllConditionedError
    when t* says so."""
    t_star, y_box = box_margin(_sparse(Z), cons)
    if t_star <= INFEASIBLE_ATOL:
        raise InfeasibleError(f"{what}: infeasible (no W meets every margin; best box margin t* = {t_star:.2g})")
    if t_star < ILL_CONDITIONED:
        raise IllConditionedError(f"{what}: instance too badly conditioned (best box margin t* = {t_star:.2g} < "
                                  f"{ILL_CONDITIONED:g}, OPT would be of order 1/t*)", dual_lower(Z, cons, y_box))
    return t_star


def attempt(Z: np.ndarray, cons, solver: str, opts: dict, form: str = "kron") -> tuple[np.ndarray, float, float, str]:
    """One rung of the ladder: solve with ``solver`` and ``opts``, then certify (:func:`certify`, and
    :func:`repair` when the bracket is wider than SOLVER_RTOL); a staged attempt (:data:`RESCALED`)
    goes on until a stage is certified to SOLVER_RTOL, and on to its last stage only from a best
    gap <= NEXT_STAGE_GAP.

    Returns the feasible M, its bracket's ends upper and lower, and the solver's status, of the
    stage with the smallest certified gap."""
    best, stages = None, opts.get("stages", {}).get(form, ())
    for k, (Mp, y, status) in enumerate(_solve(Z, cons, solver, opts, form)):
        Mf, upper, lower = certify(Z, cons, Mp, y)
        if upper - lower > SOLVER_RTOL * upper and (Mr := repair(Z, cons, Mp, y, lower)) is not None:
            Mf, upper, lower = min((Mf, upper, lower), certify(Z, cons, Mr, y), key=lambda b: (b[1] - b[2]) / b[1])
        if best is None or (upper - lower) / upper < (best[1] - best[2]) / best[1]:
            best = (Mf, upper, lower, status)
        if upper - lower <= SOLVER_RTOL * upper or (k + 2 == len(stages) and best[1] - best[2] > NEXT_STAGE_GAP * best[1]):
            break
    return best


def best_margin(Z: np.ndarray, cons) -> float:
    """t* = max t s.t. Z[x]^T M (Z[t] - Z[y]) >= t for every constraint, max_ij abs(M_ij) <= 1, t <= 1 (HiGHS)."""
    return box_margin(Z, cons)[0]


def _sparse(Z: np.ndarray) -> np.ndarray:
    """The solver's copy of Z: coordinates below SPARSE_ATOL times the largest set to 0."""
    return np.where(np.abs(Z) > SPARSE_ATOL * np.abs(Z).max(), Z, 0.0)


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


def box_margin(Z: np.ndarray, cons) -> tuple[float, np.ndarray]:
    """t* of :func:`best_margin` and the LP's duals y >= 0 of the margin rows (one per constraint).

    y is a weak-duality certificate for the margin program too (:func:`dual_lower`): when t* is
    small, sum(y) / ||G(y)||_op is large, of order 1/t*."""
    return _box_lp(Z, cons)[:2]


def box_bracket(Z: np.ndarray, cons) -> tuple[np.ndarray, float, float]:
    """A certified bracket on OPT from the feasibility LP alone, for when no solver attempt ends
    optimal: its box solution M, scaled by its smallest constraint value computed with the exact Z,
    is feasible (returned with upper = its nuclear norm), and its duals give the weak-duality lower
    bound. Returns (M, upper, lower), as :func:`certify` does."""
    _, y, Mp = _box_lp(_sparse(Z), cons, cap=None)  # uncapped t: the duals then sum to 1, never all 0
    return certify(Z, cons, Mp, y)


class InaccurateSolve(SolverError):
    """An attempt that ended "optimal_inaccurate": not a result, but its iterate (M, y) may still be
    certified by weak duality (:func:`certify`), which :func:`solve` does when no attempt ends optimal."""

    def __init__(self, message: str, M: np.ndarray, y: np.ndarray):
        super().__init__(message)
        self.M, self.y = M, y


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


def _box_lp(Z: np.ndarray, cons, cap: float | None = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """The feasibility LP of :func:`box_margin` (t <= ``cap``; None: t bounded by the box alone):
    t*, the duals y and the box solution M (r, r)."""
    r, K = Z.shape[1], len(cons)
    A_ub = sp.hstack([-constraint_matrix(Z, cons), sp.csr_matrix(np.ones((K, 1)))]).tocsr()  # t - value_k <= 0
    c = np.zeros(r * r + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(K), bounds=[(-1, 1)] * (r * r) + [(None, cap)], method="highs")
    if res.status != 0:
        raise SolverError(f"feasibility LP: HiGHS ended with status {res.status} ({res.message})")
    return float(-res.fun), -np.asarray(res.ineqlin.marginals), res.x[:r * r].reshape(r, r)


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
    feasibility LP's certified lower bound sum(y) / ||G(y)||_op (:func:`dual_lower` of
    :func:`box_margin`'s duals) and no iterate. Raises SolverError when that bound is not positive
    either (the LP then decides feasibility, :func:`solve`)."""
    if form in UNIFORM_SCALE and (uniform := dual_lower(Z, cons, np.ones(len(cons)))) > 0:
        return uniform, None
    run = _run(prob, solver, ESTIMATE)
    est = prob.value if prob.value is not None else np.nan
    conic = abs(run["info"]["pobj"]) if run is not None else np.nan  # its objective in SCS's conic form
    if prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and np.isfinite(est) and est > 0 \
            and abs(est - conic) <= ESTIMATE_AGREEMENT * est:
        return float(est), run
    lower = dual_lower(Z, cons, box_margin(_sparse(Z), cons)[1])
    if not lower > 0:
        raise SolverError(f"solver {solver}: no estimate of OPT to rescale by (status {prob.status!r}; "
                          f"feasibility LP's lower bound {lower:.2g})")
    return lower, None


def rescaled(run: dict | None, f: float) -> dict | None:
    """SCS's iterate (x, y, s) of a program with margins rho, moved to the same program with margins
    f rho: every constant of the program's conic form is a multiple of rho (the margins, and in the
    dual form the blocks rho I), so its primal x and slack s scale by f and its dual y does not
    (:data:`RESCALED` has what this start saves)."""
    return None if run is None else {"x": f * run["x"], "y": run["y"], "s": f * run["s"]}


def program(Z: np.ndarray, cons, form: str, rho) -> tuple:
    """The cvxpy problem of ``form`` (module docstring) with margins rho (a cvxpy Parameter), on the
    solver's copy of Z (coordinates below SPARSE_ATOL set to 0), and functions that return its M
    and the duals y of its margin rows after a solve.

    The dual form is max 1^T y s.t. [[rho I, G(y)], [G(y)^T, rho I]] PSD, y >= 0; with L the
    multiplier of its PSD constraint, stationarity in y_k and y_k >= 0 give z_x^T (-2 L_12) w_k >= 1,
    so M = -2 L_12 (which :func:`certify` rescales in any case)."""
    Z = _sparse(Z)
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


def certify(Z: np.ndarray, cons, Mp: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Weak-duality bracket of the scaled program (module docstring), with exact coordinates Z.

    Returns the feasible rescaling M / g (g = smallest constraint value), UB = ||M / g||_* and
    LB = sum(y+) / ||G(y+)||_op.  Raises SolverError when M meets no scaling of the constraints."""
    w = Z[cons.target] - Z[cons.competitor]
    g = float(np.min(((Z[cons.query] @ Mp) * w).sum(axis=1)))  # z_x^T M w_k for every k
    if not g > 0:
        raise SolverError(f"the returned W violates a margin (smallest value {g:.3g} <= 0)")
    Mf = Mp / g
    upper = float(np.linalg.svd(Mf, compute_uv=False).sum())
    return Mf, upper, dual_lower(Z, cons, y)


def repair(Z: np.ndarray, cons, Mp: np.ndarray, y: np.ndarray, lower: float) -> np.ndarray | None:
    """A solver's M with its margins lifted back to 1 at little cost (module docstring, Repair):
    M / level + Delta, level the y-weighted mean of M's constraint values (the margin the solver
    aimed at) and Delta the smallest in entrywise l1 norm with every value z_x^T (M / level + Delta) w_k
    >= 1 (an LP, HiGHS). None when y gives no level, when ||M / level||_* is itself more than
    SOLVER_RTOL above ``lower`` (no lift of the margins would certify the attempt then), or when the
    LP does not end optimal."""
    yp = np.clip(y, 0.0, None)
    A = constraint_matrix(_sparse(Z), cons)
    values = A @ Mp.ravel()
    level = float(yp @ values / yp.sum()) if yp.sum() > 0 else np.nan
    if not (np.isfinite(level) and level > 0):
        return None
    if np.linalg.svd(Mp / level, compute_uv=False).sum() - lower > SOLVER_RTOL * lower:
        return None
    m = Mp.ravel() / level
    n = m.size
    res = linprog(np.ones(2 * n), A_ub=sp.hstack([-A, A]).tocsr(), b_ub=A @ m - 1.0, bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    return (m + res.x[:n] - res.x[n:]).reshape(Mp.shape)


def dual_lower(Z: np.ndarray, cons, y: np.ndarray) -> float:
    """LB = sum(y+) / ||G(y+)||_op <= OPT, G(y) = sum_k y_k z_{x_k} w_k^T (module docstring), for any y;
    negative entries are dropped (weak duality needs y >= 0)."""
    w = Z[cons.target] - Z[cons.competitor]
    yp = np.clip(y, 0.0, None)
    Gy = Z[cons.query].T @ (yp[:, None] * w)
    op = float(np.linalg.norm(Gy, 2))
    return float(yp.sum() / op) if op > 0 else 0.0
