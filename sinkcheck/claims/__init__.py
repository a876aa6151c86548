"""The claims ledger: every claim of the papers that sinkcheck checks, one record each
(:mod:`sinkcheck.ledger` explains the fields and the verdicts).

A proof step the suite decides under an undecided stated claim is a record of its own (the QK step
of a Section 7 bound, beside the bound as stated). The report, ``sinkcheck claims``, the docs and
the README read :data:`CLAIMS_LIST`. A hypothesis that is a condition on a Section 7 instance is
decided by the predicate of :mod:`sinkcheck.construct.sinkdiag.hypotheses` named by the claim's id.
"""

from __future__ import annotations

from sinkcheck.errors import InvalidInputError
from sinkcheck.claims import gu, gu_inputs, gu_theorems, gu_training, ranmilo, sukenik, variants, variants_theory
from sinkcheck.claims.sukenik import ALIGNMENT_CONDITION
from sinkcheck.ledger import Claim

CLAIMS_LIST: tuple[Claim, ...] = (sukenik.CLAIMS + variants_theory.SUKENIK + ranmilo.CLAIMS + variants_theory.RANMILO
                                   + gu.CLAIMS + gu_theorems.CLAIMS + gu_inputs.CLAIMS + gu_training.CLAIMS
                                   + variants.GU_CLAIMS + variants.OTHER_CLAIMS)
"""Every claim, grouped by paper in :data:`sinkcheck.ledger.PAPERS` order, in the order each paper makes them."""

CLAIMS = {c.id: c for c in CLAIMS_LIST}


def claim_of_check(check: str) -> Claim:
    """The claim that the report check ``check`` decides."""
    for c in CLAIMS_LIST:
        if check in c.checks:
            return c
    raise InvalidInputError(f"check: {check!r} decides no claim of the ledger (sinkcheck.claims)")


def get(claim_id: str) -> Claim:
    """The claim with id ``claim_id``."""
    if claim_id not in CLAIMS:
        raise InvalidInputError(f"claim: unknown id {claim_id!r} (sinkcheck claims lists them)")
    return CLAIMS[claim_id]
