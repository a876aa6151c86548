"""The published claims about attention operations that keep, move or remove the sink, run on the
suite's toy tasks through the operation grid (``sinkcheck variants``, docs/variants.md): Gu et
al.'s Table 6 and the K-bias row of Table 4, softpick (Zuhri et al.), gated attention (Qiu et al.)
and gpt-oss's learned sink logit.

Every verdict comes from the bigram-backcopy (dormant) task of the grid, the task on which Gu et
al.'s metric reads a switch-off sink (on the trigger task Sink_1 is 1.0 in every run of every Table 6
operation and of softmax, the baseline, raw or proxy, so it cannot separate what the paper
separates: docs/variants.md); it compares directions seed by
seed, never magnitudes, and needs every run it reads solved (the rules:
:mod:`sinkcheck.report.checks.variants`).
"""

from __future__ import annotations

from sinkcheck.ledger import Claim

SETTING = ("the operation grid of `sinkcheck variants` (sinkcheck/data/variants_runs.json): a 2-layer, width-64 "
           "attention-only GPT (learned absolute positions, pre-norm LayerNorm) with attention {ops}, 1 and 2 "
           "heads, trained 600 steps on bigram-backcopy (the dormant task, an induction-style variant of Guo et "
           "al.'s: T = 32 tokens after a fixed BOS (Gu et al.: 64), 32 ids; AdamW lr 3e-3, weight decay 0.1), "
           "seeds 0, 1, 2; Gu et al.'s Sink_1^0.3 on 100 held-out sequences ({weights}); solved: held-out accuracy "
           ">= 0.9 on the copies after a trigger (our rule), required of every run a rule reads; the quick profile "
           "decides from the shipped runs and re-runs two of them (softmax, 1 head, seed 0, on the trigger task "
           "and on bigram-backcopy), which must equal the shipped runs exactly; the full profile re-runs the grid")
"""Our setting of every record ({ops}: the operations it reads; {weights}: which weights the metric sees)."""

GU_SETTING = ("60M-parameter LLaMA-style models (10 blocks, 8 heads, RoPE, pre-norm RMSNorm, SwiGLU) trained on 5B Pile "
              "tokens, 20k steps, Sink_1^0.3 on 100 sequences of 64 tokens{more}")
"""Gu et al.'s setting (Section 4 and Section 7.4)."""

PROXY = ("proxy weights, each row divided by its sum over the real keys and the slot: the raw weights for an "
         "operation that normalises")
"""Which weights Gu et al.'s metric reads (their Sink* for operations that do not normalise, Section 7.4)."""

TESTS = ("tests/test_variants_check.py",)

_SOLVED = ("every run read having solved the task (a run that did not learn the task cannot show what the operation "
           "does with it: its head count is not decided, so inconclusive)")
_HAS_SINK = ("Sink_1^0.3 > 0 and Sink_1 = 0 at initialisation (the sink formed in training) in every seed, for 1 and "
             "2 heads (the two head counts pooled: mixed is inconclusive), " + _SOLVED)
_NO_SINK = ("proxy Sink_1^0.3 below the softmax model's of the same seed and head count in every seed, " + _SOLVED
            + "; Sink_1 at or above softmax's in every seed is not_reproduced in our setting")


def _table6(op: str, row: str, number: str, has_sink: bool, proxy: bool, verdict: str) -> Claim:
    star = " (proxy weights: Sink*)" if proxy else ""
    return Claim(
        f"gu.table6.{op}", "gu", "Section 7.4, Table 6 (attention operation)",
        f"With {row} the 60M model has Sink_1 = {number}{star}: "
        + ("a first-token sink forms." if has_sink else "next to no first-token sink (softmax: 18.18 %)."),
        f"On bigram-backcopy, the `{op}` operation: " + (_HAS_SINK if has_sink else _NO_SINK) + ".",
        None, verdict, (f"variants.table6_{op}",), TESTS, "variants",
        kind="empirical", statement_source="paper",
        setting=SETTING.format(ops=op if has_sink else f"{op} beside softmax", weights=PROXY),
        paper_setting=GU_SETTING.format(more=f"; {row} replaces softmax (Table 6)"))


CLAIMS: tuple[Claim, ...] = (
    _table6("softmax", "softmax attention", "18.18 %", True, False, "reproduced"),
    _table6("sigmoid", "sigmoid attention without normalisation", "0.44 %", False, True, "inconclusive"),
    _table6("sigmoid_sum", "sigmoid attention with sum normalisation", "30.24 %", True, False, "reproduced"),
    _table6("elu1", "elu + 1 attention without normalisation", "0.80 %", False, True, "inconclusive"),
    _table6("linear_elu1", "the elu + 1 kernel with normalisation (linear attention)", "53.65 %", True, True,
            "inconclusive"),
    Claim("gu.table6.other_kernels", "gu", "Section 7.4, Table 6 (attention operation)",
          "The identity kernel without normalisation (Sink* 0.00 %, loss 3.99) and an MLP kernel with max(|Z|, 1) "
          "normalisation (0.19 %) or without (0.74 %) form next to no first-token sink.",
          "Not checked: the registry has no identity or MLP-kernel operation (ReLU attention, the nearest, has its "
          "own record, gu.sink_emergence.relu).",
          None, "out_of_scope", ("variants.table6_other_kernels",), TESTS, "variants",
          kind="empirical", statement_source="paper",
          setting="none: no such operation in sinkcheck.variants.OPERATIONS",
          paper_setting=GU_SETTING.format(more="; the identity or an MLP kernel replaces softmax (Table 6)")),
    Claim("gu.table4.key_bias_operation", "gu", "Section 7.3, Table 4 (K biases)",
          "A key bias with zero value takes the sink from the first token: Sink* 73.34 % on the bias, Sink_1 0.00 %.",
          "On bigram-backcopy, the `key_bias` operation: the slot's Sink* above Sink_1, and Sink_1 below the softmax "
          "model's of the same seed, in every seed, for 1 and 2 heads (pooled: mixed is inconclusive), " + _SOLVED
          + "; this is gu.table4.attention_biases's K row on the operation grid's model.",
          None, "reproduced", ("variants.key_bias",), TESTS, "variants",
          kind="empirical", statement_source="paper",
          setting=SETTING.format(ops="key_bias beside softmax", weights="raw weights; the slot's Sink* is the "
                                 "fraction of (sequence, layer, head) in which the real queries' mean weight on the "
                                 "slot exceeds 0.3"),
          paper_setting=GU_SETTING.format(more="; a K bias per layer and head with zero value (Table 4)")),
    Claim("zuhri.softpick.no_sink", "zuhri", "Abstract and Section 4 (sink rate)",
          "Softpick, max(e^x_j - 1, 0) / sum_i |e^x_i - 1|, has no attention sink: a 0 % sink rate (Gu et al.'s "
          "metric) in 340M- and 1.8B-parameter models.",
          "On bigram-backcopy, the `softpick` operation: Sink_1^0.3 of its raw weights (which do not sum to 1) "
          "equal to 0 in every seed, for 1 and 2 heads, " + _SOLVED + "; Sink_1 > 0 in every seed is not_reproduced "
          "in our setting, mixed inconclusive.",
          None, "inconclusive", ("variants.softpick",), TESTS, "variants",
          kind="empirical", statement_source="paper",
          setting=SETTING.format(ops="softpick", weights="softpick's raw weights"),
          paper_setting="340M- and 1.8B-parameter Llama-style language models trained on natural text, softpick in "
                        "place of softmax in every head; sink rate as Gu et al.'s Sink_1 with eps = 0.3"),
    Claim("qiu.gate.first_token_attention", "qiu", "Section 4 (attention sink), Table 4",
          "A query-dependent sigmoid gate on the attention output (G1, elementwise) cuts the attention the heads "
          "put on the first token from 46.7 % to 4.8 %.",
          "On bigram-backcopy, the `gated_elem` operation: the mass the off positions put on the first token "
          "(off_first) below the softmax model's of the same seed in every seed, for 1 and 2 heads (pooled: mixed "
          "is inconclusive), " + _SOLVED + "; above in every seed is not_reproduced in our setting. `gated_head` "
          "is reported beside.",
          None, "inconclusive", ("variants.gated",), TESTS, "variants",
          kind="empirical", statement_source="paper",
          setting=SETTING.format(ops="gated_elem (and gated_head) beside softmax",
                                 weights="here the first token's raw softmax weight at the off positions"),
          paper_setting="15B-parameter MoE language models of the paper's gating ablations, the gate after "
                        "scaled dot-product attention; the first token's attention averaged over layers and heads"),
    Claim("gptoss.sink_logit.no_attention", "gptoss", "Model card, Section 2 (architecture: attention)",
          "A learned bias in the softmax's denominator per head (a sink logit whose column is dropped) lets a head "
          "pay no attention to any token.",
          "What we measure of it, on bigram-backcopy with the `sink_logit` operation: at the off positions (every "
          "non-trigger query after BOS, averaged over both layers and all heads) the dropped column takes most of "
          "the mass, more than all real keys together (off_slot > off_mass), and Sink_1 is below the softmax "
          "model's of the same seed, in every seed, for 1 and 2 heads (pooled: mixed is inconclusive), " + _SOLVED
          + ". This reads a head's average, not that any head attends to no token.",
          None, "inconclusive", ("variants.sink_logit",), TESTS, "variants",
          kind="empirical", statement_source="paper",
          setting=SETTING.format(ops="sink_logit beside softmax", weights="raw weights on the real keys; the "
                                                                          "dropped column takes 1 minus their sum"),
          paper_setting="gpt-oss-120b and gpt-oss-20b (mixture-of-experts transformers with alternating banded and "
                        "dense attention); a design statement, no measurement of sinks is reported"),
)
"""The records, Gu et al.'s first (Table 6 in the table's order, then Table 4's K bias)."""

GU_CLAIMS = tuple(c for c in CLAIMS if c.paper == "gu")
OTHER_CLAIMS = tuple(c for c in CLAIMS if c.paper != "gu")
