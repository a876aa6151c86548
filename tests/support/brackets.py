"""What a claim over sampled Section 7 instances may compare OPT with (tests/test_sinkdiag_bounds.py,
tests/test_min_cost_certificate.py).

A reported solve gives OPT to a certified relative gap <= SOLVER_RTOL (at most MAX_GAP), and the
claims compare with ``opt`` as they always have. A solve whose certified bracket is wider than
MAX_GAP is refused (WideBracketError, found by the thorough profile on instances with t* ~ 1e-5,
OPT ~ 1e5 kappa), but its bracket is still valid: there a lower bound L is shown below OPT only by
L <= lower (``Bracket.below``), and a bracket that straddles L fails the claim. An infeasible
program has OPT = +inf. A program refused as too badly conditioned (t* < ILL_CONDITIONED, found by
the dev profile: near-coincident group mates, OPT of order 1/t*) has the bracket [lower, +inf) with
the lower bound certified by the feasibility LP's dual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sinkcheck.construct.sinkdiag.min_cost import min_cost
from sinkcheck.errors import IllConditionedError, InfeasibleError, WideBracketError


@dataclass(frozen=True)
class Bracket:
    lower: float
    upper: float
    reported: bool

    @property
    def below(self) -> float:
        """The value a lower bound L must not exceed: OPT (``upper``) when reported, else ``lower``."""
        return self.upper if self.reported else self.lower


def opt_bracket(inst, pattern: str, fallback: bool = True) -> Bracket:
    try:
        sol = min_cost(inst, pattern, fallback)
    except InfeasibleError:
        return Bracket(math.inf, math.inf, True)
    except WideBracketError as err:
        return Bracket(err.lower, err.upper, False)
    except IllConditionedError as err:
        return Bracket(err.lower, math.inf, False)
    return Bracket(sol.opt_lower, sol.opt, True)
