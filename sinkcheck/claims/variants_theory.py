"""The theory per attention operation (docs/variants_theory.md, :mod:`sinkcheck.theory.variants`):
two records, each extending a paper's softmax (and ReLU) statement to every built-in operation of
:mod:`sinkcheck.variants`.  The papers have theorems only about softmax and ReLU, so the checked
statements are ours (statement_source "extension")."""

from __future__ import annotations

from sinkcheck.ledger import Claim

_TESTS = ("tests/test_variants_theory.py",)

SUKENIK: tuple[Claim, ...] = (
    Claim("sukenik.variants.off_switch", "sukenik", "Section 6 (the switch theorem; softmax only)",
          "For softmax: a head is switched off (outputs 0 for every content) only through a sink; the paper has "
          "no theorem about other attention operations.",
          "Ours, per operation, one query with n content keys whose values range over the contents: softmax, "
          "sigmoid with sum normalisation, normalised linear attention (elu + 1) and the sink token without its "
          "token are never off (a convex combination of the values: equal values c give c); the sink token is off "
          "only through its token, in a limit, if its value is 0; softmax1, a sink logit, a K bias with zero value, "
          "sigmoid, sigmoid with bias -log n (n the row length), elu + 1 and gated softmax (headwise, elementwise) "
          "are off only in a limit, at the exact rate (the content mass's supremum over scores <= -Delta from the "
          "extra logit, the gate logit -Delta) n e^{-D}/(1 + n e^{-D}) (softmax1, sink logit, K bias, and the sink "
          "token through a zero-value token: Theorem S4 of docs/switch.md, ours), n sigma(-D) <= n e^{-D} "
          "(sigmoid), n/(1 + n e^D) <= e^{-D} (bias -log n), n e^{-D} (elu + 1), sigma(-D) <= e^{-D} (gates); "
          "ReLU, ReLU / length and softpick are off exactly (weight 0 at every score <= 0). Proof steps in sympy; "
          "the registry's weights checked on random rows.",
          "the sink token's value is 0 (for its 'off through its token'; with a learned value v the output tends "
          "to v, not 0)", "holds_with_hypothesis", ("variants_theory.off_switch",), _TESTS, "variants_theory",
          kind="theorem", statement_source="extension"),
)

RANMILO: tuple[Claim, ...] = (
    Claim("ranmilo.variants.trigger_without_sink", "ranmilo", "main theorem (necessity) and the ReLU theorem",
          "A softmax head needs a sink to solve the trigger-conditional task; ReLU attention solves it without one. "
          "The paper has no theorem about other attention operations.",
          "Ours, one head, the task of docs/trigger.md: ReLU, ReLU / length (with positions) and softpick (without "
          "positions: BOS and the trigger score 0 and leave softpick's denominator, without the authors' epsilon) solve it exactly with zero BOS "
          "attention; softmax1, a sink logit, a K bias, sigmoid, sigmoid with bias -log n, elu + 1 (the last three "
          "with positions) and gated softmax solve it in the limit (explicit heads with sharp sup error bounds "
          "c R e^{-L} -> 0 and BOS attention -> 0; never exactly: every weight or gate is > 0); softmax, sigmoid "
          "with sum normalisation, normalised linear attention and a sink token need a sink (BOS, the trigger or "
          "the sink token): their weights sum to 1 over the real tokens, so Ran-Milo's necessity argument "
          "(Theorem 1) applies as it is, and a sink head of each meets its bound content mass <= f(eps) on the "
          "registry's weights.",
          "as in Theorem 1: the content-free value parts are bounded by beta with eps + beta < r (the 'no' rows), "
          "and V z = V_x x with V_x != 0 (no content-free value part) for 'never exactly' of the limit rows; "
          "softpick without the authors' epsilon in its denominator (with it, its trigger weight is only a limit)",
          "holds_with_hypothesis", ("variants_theory.trigger",), _TESTS, "variants_theory",
          kind="theorem", statement_source="extension"),
)
