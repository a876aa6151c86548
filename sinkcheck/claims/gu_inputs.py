"""The claims of Gu et al. (ICLR 2025) on Table 1's input protocol (natural, random and repeated tokens)."""

from __future__ import annotations

from sinkcheck.ledger import Claim

CLAIMS: tuple[Claim, ...] = ()
