"""The claims of Ran-Milo (2026): the trigger-conditional task's theorems and experiments."""

from __future__ import annotations

from sinkcheck.ledger import Claim

_TRIGGER_MODEL = ("Our model of the task: content x_j with ||x_j|| <= R; BOS and the trigger carry no content; the target "
                  "at the trigger is the mean of the content before it (BOS excluded), 0 elsewhere.")


CLAIMS: tuple[Claim, ...] = (
    Claim("ranmilo.necessity.single_head", "ranmilo", "main theorem (necessity)",
          "A single softmax attention head that solves the trigger-conditional task (output the mean of the "
          "preceding tokens at a trigger, 0 elsewhere) to error eps must put attention >= 1 - f(eps) on BOS "
          "at non-trigger positions: it forms a sink (the abstract gives no f).",
          "One softmax head, error <= eps on the all-equal probes of norm r: content mass <= "
          "f(eps) = (eps + beta) / (r - eps - beta) at every non-trigger position, so BOS >= 1 - f before the "
          "trigger and BOS + trigger >= 1 - f after it; tight for beta = 0 (Theorem 1, ours, with our f). "
          + _TRIGGER_MODEL,
          "the content-free value parts are bounded, ||sum_j A_ij u_j|| <= beta at the probe positions (implied by "
          "||u_j|| <= beta; beta = 0: V z = V_x x; without it a "
          "counterexample, with value norms of order 2e4 and content dimension p = 1); after the trigger the sink "
          "may be BOS or the trigger token; the sink is shown on the all-equal probes",
          "holds_with_hypothesis", ("trigger.necessity",),
          ("tests/test_trigger_theory.py", "tests/test_trigger_necessity.py"), "trigger",
          kind="theorem", statement_source="reconstructed"),
    Claim("ranmilo.necessity.multi_head", "ranmilo", "abstract (multi-head variants)",
          "Softmax models with several heads also develop sinks on the trigger task (an experimental claim).",
          "With H >= 2 heads no per-head BOS bound holds (two hand-built heads cancel, kept counterexample); if "
          "every head has V^h z = V^h_x x (no content-free value part) and g_h = <V_x^h x, x> / r >= 0, the "
          "g-weighted mean content mass is <= eps / (r - eps) (Theorem 2, ours). " + _TRIGGER_MODEL,
          "V^h z = V^h_x x and g_h >= 0 for every head (no head pushes against the target); the bound is on the "
          "g-weighted mean over heads; eps < r", "holds_with_hypothesis", ("trigger.multi_head",),
          ("tests/test_trigger_theory.py", "tests/test_trigger_counterexamples.py"), "trigger",
          kind="theorem", statement_source="reconstructed"),
    Claim("ranmilo.construction.softmax_sink", "ranmilo", "construction (softmax with a sink)",
          "A softmax head with a BOS sink solves the trigger task to any error eps > 0.",
          "The BOS-sink head has sup error R T / (e^L + T); error eps needs sink logit "
          "L = log(T (R - eps) / eps) (Theorem 3, ours). Converse: a single softmax head with error <= eps on the "
          "probes of norm R, content-free outputs of norm <= beta there (as in Theorem 1) with eps + beta < R/2, "
          "and equal content logits needs a sink logit gap >= log(i (R - 2 eps - 2 beta) / (eps + beta)) at a "
          "position i before the trigger or in a trigger-free probe (after it the trigger token may be the "
          "sink). " + _TRIGGER_MODEL,
          None, "holds", ("trigger.sink_logit",), ("tests/test_trigger_weights.py",), "trigger",
          kind="theorem", statement_source="reconstructed"),
    Claim("ranmilo.relu.sufficiency", "ranmilo", "ReLU attention theorem",
          "Non-normalised ReLU attention solves the same task without any sink.",
          "A ReLU head (plain or length-normalised) with one-hot positions solves the task exactly with zero "
          "BOS attention; without positions (T >= 3) every sum of ReLU (or unnormalised sigmoid) heads with those "
          "normalisers (n_t = t + 1 visible keys, or 1) has error "
          ">= R/5 (length) or R/3 (plain), attained at T = 3; with the normaliser n_t = t - 1 (the tokens between "
          "BOS and the query) a position-free ReLU head solves it exactly with zero BOS attention (Theorem 4, "
          "ours: positions are needed for the first two normalisers only). " + _TRIGGER_MODEL,
          None, "holds", ("trigger.relu",), ("tests/test_trigger_weights.py", "tests/test_trigger_theory.py"),
          "trigger", kind="theorem", statement_source="reconstructed"),
    Claim("ranmilo.experiments.softmax_vs_relu", "ranmilo", "experiments",
          "Trained softmax models develop strong sinks on the trigger task, while ReLU attention eliminates "
          "them, in single- and multi-head variants.",
          "Trained single-layer softmax models put >= 0.9 BOS attention at non-trigger positions; ReLU (and "
          "sigmoid) models put <= 0.2 there (the coefficient itself, not its share).",
          None, "reproduced", ("trigger.training",), ("tests/test_trigger_train.py",), "trigger",
          kind="empirical", statement_source="reconstructed",
          setting="one attention layer without residual or MLP, T = 8 tokens after BOS, content dimension 4, Adam; "
                  "one and two heads, 2 seeds, 200 steps (quick profile; full: 3 seeds, 400 steps)",
          paper_setting="trained softmax and ReLU models on the trigger task, single- and multi-head (the abstract "
                        "gives no sizes)"),
)
