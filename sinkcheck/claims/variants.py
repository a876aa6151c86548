"""The published claims about attention operations that keep, move or remove the sink, run on the
suite's toy tasks through the operation grid (``sinkcheck variants``, docs/variants.md): Gu et
al.'s Table 6 and the K-bias row of Table 4, softpick (Zuhri et al.), gated attention (Qiu et al.)
and gpt-oss's learned sink logit.

Every verdict comes from the bigram-backcopy (dormant) task of the grid, the task on which Gu et
al.'s metric reads a switch-off sink; it compares directions seed by seed, never magnitudes (the
rules: :mod:`sinkcheck.report.checks.variants`).
"""

from __future__ import annotations

from sinkcheck.ledger import Claim

SETTING = ("the operation grid of `sinkcheck variants` (sinkcheck/data/variants_runs.json): a 2-layer, width-64 "
           "attention-only GPT with attention {ops}, 1 and 2 heads, trained 600 steps on bigram-backcopy (the dormant "
           "task: T = 32, 32 ids, a fixed BOS first; AdamW lr 3e-3, weight decay 0.1), seeds 0, 1, 2; Gu et al.'s "
           "Sink_1^0.3 on held-out sequences ({weights}); solved: held-out accuracy >= 0.9 on the copies after a "
           "trigger (our rule); the quick profile decides from the shipped runs and re-runs one trigger-task run "
           "(softmax, 1 head, seed 0), which must equal the shipped run exactly (it does not recompute the "
           "bigram-backcopy runs); the full profile re-runs the grid")
"""Our setting of every record ({ops}: the operations it reads; {weights}: which weights the metric sees)."""

GU_SETTING = ("60M-parameter LLaMA-style models (10 blocks, 8 heads, RoPE, pre-norm RMSNorm, SwiGLU) trained on 5B Pile "
              "tokens, 20k steps, Sink_1^0.3 on 100 sequences of 64 tokens{more}")
"""Gu et al.'s setting (Section 4 and Section 7.4)."""

PROXY = ("proxy weights, each row divided by its sum over the real keys and the slot: the raw weights for an "
         "operation that normalises")
"""Which weights Gu et al.'s metric reads (their Sink* for operations that do not normalise, Section 7.4)."""

TESTS = ("tests/test_variants_check.py",)

_HAS_SINK = ("Sink_1^0.3 > 0 in every seed, for 1 and 2 heads (the two head counts pooled: mixed is inconclusive)")
_NO_SINK = ("proxy Sink_1^0.3 below the softmax model's of the same seed and head count in every seed, every run "
            "having solved the task (a run that did not learn the task cannot show whether the operation needs a "
            "sink: then inconclusive); Sink_1 at or above softmax's in every seed is not_reproduced in our setting")


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
            "reproduced"),
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
          "model's of the same seed, in every seed, for 1 and 2 heads (pooled: mixed is inconclusive); this is "
          "gu.table4.attention_biases's K row on the operation grid's model.",
          None, "reproduced", ("variants.key_bias",), TESTS, "variants",
          kind="empirical", statement_source="paper",
          setting=SETTING.format(ops="key_bias beside softmax", weights="raw weights; the slot's Sink* is the mean "
                                                                        "weight the real queries put on it"),
          paper_setting=GU_SETTING.format(more="; a K bias per layer and head with zero value (Table 4)")),
    Claim("zuhri.softpick.no_sink", "zuhri", "Abstract and Section 4 (sink rate)",
          "Softpick, max(e^x_j - 1, 0) / sum_i |e^x_i - 1|, has no attention sink: a 0 % sink rate (Gu et al.'s "
          "metric) in 340M- and 1.8B-parameter models.",
          "On bigram-backcopy, the `softpick` operation: Sink_1^0.3 of its raw weights (which do not sum to 1) "
          "equal to 0 in every seed, for 1 and 2 heads, every run having solved the task; Sink_1 > 0 in every seed "
          "is not_reproduced in our setting, mixed or an unsolved run inconclusive.",
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
          "is inconclusive); above in every seed is not_reproduced in our setting. `gated_head` is reported beside.",
          None, "inconclusive", ("variants.gated",), TESTS, "variants",
          kind="empirical", statement_source="paper",
          setting=SETTING.format(ops="gated_elem (and gated_head) beside softmax",
                                 weights="here the first token's raw softmax weight at the off positions"),
          paper_setting="15B-parameter MoE language models of the paper's gating ablations, the gate after "
                        "scaled dot-product attention; the first token's attention averaged over layers and heads"),
    Claim("gptoss.sink_logit.no_attention", "gptoss", "Model card, Section 2 (architecture: attention)",
          "A learned bias in the softmax's denominator per head (a sink logit whose column is dropped) lets a head "
          "pay no attention to any token.",
          "On bigram-backcopy, the `sink_logit` operation: at the off positions, the dropped column's mass "
          "(off_slot) above the first token's (off_first), and Sink_1 below the softmax model's of the same seed, "
          "in every seed, for 1 and 2 heads (pooled: mixed is inconclusive).",
          None, "reproduced", ("variants.sink_logit",), TESTS, "variants",
          kind="empirical", statement_source="paper",
          setting=SETTING.format(ops="sink_logit beside softmax", weights="raw weights on the real keys; the "
                                                                          "dropped column takes 1 minus their sum"),
          paper_setting="gpt-oss-120b and gpt-oss-20b (mixture-of-experts transformers with alternating banded and "
                        "dense attention); a design statement, no measurement of sinks is reported"),
)
"""The records, Gu et al.'s first (Table 6 in the table's order, then Table 4's K bias)."""

GU_CLAIMS = tuple(c for c in CLAIMS if c.paper == "gu")
OTHER_CLAIMS = tuple(c for c in CLAIMS if c.paper != "gu")
