"""The hypotheses that are conditions on a Section 7 instance (Súkeník et al.; docs/sink_vs_diagonal.md).

Each predicate takes the sampler's arguments ``kw`` (d, C, lam, centred = H1, equal_norms = H2,
...), whether the fallback constraints are imposed, and the instance's computed quantities
(``Delta_diag``), and says whether the instance satisfies the hypothesis that its claim's record
(:mod:`sinkcheck.claims`) adds in words. :data:`PREDICATES` names each by its claim.
"""

from __future__ import annotations

import math
from typing import Callable

from sinkcheck.claims import claim_of_check

LAM_DIAG = 1 / math.sqrt(math.sqrt(201) / 2 - 3)
"""The threshold 1/sqrt(sqrt(201)/2 - 3) = 0.4945 above which the diagonal construction meets its
cross-group margins; the same number as
:func:`sinkcheck.theory.sinkdiag_bounds.diag_upper_lambda_threshold` (tested)."""

C_MAX_FALLBACK = 15
"""With the fallback constraints the stated L_sink holds for every lam and nuisance iff C <= 15
(equal to :data:`sinkcheck.theory.sinkdiag_bounds.C_MAX_FALLBACK`, tested)."""


def u_sink_hypothesis(kw: dict, fallback: bool, instance: dict) -> bool:
    return kw["lam"] >= 1.0


def u_diag_hypothesis(kw: dict, fallback: bool, instance: dict) -> bool:
    return bool(kw["equal_norms"]) and instance["Delta_diag"] > 0 and kw["lam"] >= LAM_DIAG


def l_sink_hypothesis(kw: dict, fallback: bool, instance: dict) -> bool:
    """With the fallback constraints: C <= 15 (any lam and nuisance; exact), or H1 and lam <= sqrt(63);
    without them: H1 and lam <= sqrt(15)."""
    if fallback:
        return kw["C"] <= C_MAX_FALLBACK or (bool(kw["centred"]) and kw["lam"] <= math.sqrt(63))
    return bool(kw["centred"]) and kw["lam"] <= math.sqrt(15)


def l_diag_hypothesis(kw: dict, fallback: bool, instance: dict) -> bool:
    """With the fallback constraints always (any C, lam and nuisance); without them: H1 and lam <= sqrt(15)."""
    return fallback or (bool(kw["centred"]) and kw["lam"] <= math.sqrt(15))


Predicate = Callable[[dict, bool, dict], bool]

PREDICATES: dict[str, Predicate] = {
    "sukenik.sec7.u_sink_qk": u_sink_hypothesis,
    "sukenik.sec7.u_diag_qk": u_diag_hypothesis,
    "sukenik.sec7.l_sink_qk": l_sink_hypothesis,
    "sukenik.sec7.l_diag_qk": l_diag_hypothesis,
}
"""The predicate of each claim whose added hypothesis is a condition on the instance, by claim id."""


def predicate_of_check(check: str) -> Predicate:
    """The hypothesis predicate of the claim that the report check ``check`` decides."""
    return PREDICATES[claim_of_check(check).id]
