"""Claims of the certified margin program (sinkcheck.construct.margin_program) that the solver tests
left unstated (found by mutation testing, docs/mutation.md): the documented solver ladder is what
runs when an attempt cannot be certified, a solver's "infeasible" after a feasible LP is reported
with its status, and an M that meets no scaling of the constraints is refused, not rescaled."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from sinkcheck.construct import margin_program as mp
from sinkcheck.construct.sink_lp import min_nuclear_sink
from sinkcheck.errors import SolverError

Z3 = np.eye(3)
"""The smallest sink problem of tests/test_sink_lp_claims.py: z_0, z_1, z_2 orthonormal, J = {1, 2}."""


def sink_program():
    """Its scaled margin program: constraints z_i^T M (z_0 - z_j) >= 1 for (i, j) = (1, 1), (2, 1), (2, 2)."""
    i, j = np.array([1, 2, 2]), np.array([1, 1, 2])
    return Z3, mp.Triples(query=i, target=np.zeros_like(i), competitor=j)


def record_solves(monkeypatch, inaccurate: int, status=cp.OPTIMAL_INACCURATE):
    """Record the keyword arguments of every cvxpy solve; the first ``inaccurate`` end with ``status``."""
    original, seen = cp.Problem.solve, []

    def solve(self, **kwargs):
        seen.append(kwargs)
        out = original(self, **kwargs)
        if len(seen) <= inaccurate:
            self._status = status
        return out

    monkeypatch.setattr(cp.Problem, "solve", solve)
    return seen


@pytest.mark.parametrize("inaccurate", [1, 2])
def test_an_uncertified_attempt_is_retried_with_the_next_documented_solver_settings(monkeypatch, inaccurate):
    seen = record_solves(monkeypatch, inaccurate)
    sol = mp.solve(*sink_program())
    assert [(s["solver"], {k: v for k, v in s.items() if k != "solver"}) for s in seen] == \
        [(name, opts) for name, opts in mp.ATTEMPTS[:inaccurate + 1]]
    assert sol.solver == mp.ATTEMPTS[inaccurate][0] and sol.lower <= sol.upper


def test_the_ladder_settings_differ_from_the_first_attempt():
    # a retry with the same settings would reach the same stall
    configs = [(name, tuple(sorted(opts.items()))) for name, opts in mp.ATTEMPTS]
    assert len(set(configs)) == len(configs) and mp.ATTEMPTS[0] == ("CLARABEL", {})


def test_a_solver_infeasible_after_a_feasible_LP_is_reported_with_its_status(monkeypatch):
    record_solves(monkeypatch, 3, status=cp.INFEASIBLE)
    with pytest.raises(SolverError, match=r"^min-nuclear sink: infeasible \(status infeasible\) "
                                          r"\(but the feasibility LP found t\* = .* > 0\)$"):
        min_nuclear_sink(Z3, [1, 2])


def test_certify_refuses_an_M_that_meets_no_scaling_of_the_constraints():
    Z, cons = sink_program()
    with pytest.raises(SolverError, match=r"^the returned W violates a margin \(smallest value 0 <= 0\)$"):
        mp.certify(Z, cons, np.zeros((3, 3)), np.ones(3))
    with pytest.raises(SolverError, match=r"^the returned W violates a margin \(smallest value -1 <= 0\)$"):
        mp.certify(Z, cons, -np.outer(Z[1] + Z[2], Z[0]), np.ones(3))
