"""The claims of Gu et al. (ICLR 2025) on the architecture tables (Section 3.1, Section 4, Tables 3-5)
run on the suite's own training tasks."""

from __future__ import annotations

from sinkcheck.ledger import Claim

CLAIMS: tuple[Claim, ...] = ()
