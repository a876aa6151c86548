"""The claims of Gu et al. (ICLR 2025), Appendix C.1: the repeated-token lemma and Propositions 1-4."""

from __future__ import annotations

from sinkcheck.ledger import Claim

CLAIMS: tuple[Claim, ...] = ()
