"""The claims of Gu et al. (ICLR 2025) on trained and pretrained models (Sections 3, 5 and 7)."""

from __future__ import annotations

from sinkcheck.ledger import Claim

ENCODER_SETTING = ("all-MiniLM-L6-v2 (a 6-layer BERT encoder, bidirectional attention, post-LayerNorm, query and key "
                   "biases), the {n} shipped English sentences of the quick profile, offline")
"""The setting of every record measured on the shipped encoder ({n}: the number of sentences)."""


CLAIMS: tuple[Claim, ...] = (
    Claim("gu.sink_emergence.softmax", "gu", "Section 7.4, Table 6 (attention operation)",
          "With softmax attention a sink on the first token emerges: Sink_1^eps (eps = 0.3), the fraction of "
          "(sample, layer, head) triples in which the first token's importance (the average attention the "
          "queries that see it put on it) exceeds eps, is well above 0 (18.18 % in their 60M model, Table 6).",
          "On the bigram-backcopy (switch-off) task, every trained softmax model has Sink_1^0.3 > 0 (Gu et al.'s "
          "pooling: thresholded per held-out sequence, layer and head, then averaged).",
          None, "reproduced", ("empirical.dormant_softmax",), ("tests/test_empirical_train.py",), "empirical",
          kind="empirical", statement_source="paper",
          setting="a 2-layer, 2-head, width-64 attention-only GPT on bigram-backcopy (T = 32, 32 ids), AdamW weight "
                  "decay 0.1, 500 steps, one seed (quick profile), Sink_1^0.3 on 100 held-out sequences",
          paper_setting="60M-parameter LLaMA-style models trained on 5B tokens of natural text (Table 6)"),
    Claim("gu.sink_emergence.relu", "gu", "Section 7.4, Table 6 (attention operation)",
          "Attention without normalisation forms no sink (the identity kernel without normalisation: "
          "Sink_1* = 0.00 %, Table 6).",
          "On the bigram-backcopy task, no trained ReLU-attention model (ReLU of the scores divided by the number "
          "of visible keys) has proxy Sink_1^0.3 > 0.",
          None, "inconclusive", ("empirical.dormant_relu",), ("tests/test_empirical_train.py",), "empirical",
          kind="empirical", statement_source="paper",
          setting="the same GPT and task as gu.sink_emergence.softmax, with ReLU attention divided by the number of "
                  "visible keys: another operation than the paper's identity kernel without normalisation, so the "
                  "run speaks to the claim only by analogy",
          paper_setting="60M-parameter models with the identity kernel and no normalisation, 5B tokens (Table 6)"),
    Claim("gu.sink_emergence.sigmoid", "gu", "Section 7.4, Table 6 (attention operation)",
          "Sigmoid attention without normalisation forms no sink: its proxy Sink_1* (raw weights normalised "
          "only for the metric) is 0.44 %, against 18.18 % for softmax (Table 6).",
          "On the bigram-backcopy task, no trained sigmoid-attention model (no normalisation) has proxy "
          "Sink_1^0.3 > 0; beside it, the raw first-token weight against softmax's.",
          None, "inconclusive", ("empirical.dormant_sigmoid",), ("tests/test_empirical_train.py",), "empirical",
          kind="empirical", statement_source="paper",
          setting="the same GPT and task as gu.sink_emergence.softmax, sigmoid attention with bias -log(T); the proxy "
                  "Sink_1 and the raw first-token weight are both reported, since the proxy cannot tell 'off' from "
                  "'sink' when the raw weights are near 0",
          paper_setting="60M-parameter models, 5B tokens (Table 6; 1B parameters: 2.46 % against softmax's 45.11 %)"),
    Claim("gu.small_data.no_sink", "gu", "Section 5 (training data amount, Figure 5)",
          "Language models trained on too little data (50M tokens) form no sink.",
          "A byte-level LM that does learn from a few hundred thousand bytes (held-out loss down by more "
          "than 0.5 nats/byte) has Sink_1^0.3 = 0 in every layer.",
          None, "inconclusive", ("empirical.lm_smoke",), ("tests/test_empirical_cli.py",), "empirical",
          kind="empirical", statement_source="paper",
          setting="a byte-level GPT on the Python standard library's source, 40 steps, seed 0 (quick profile); the "
                  "largest CPU run tried (lm_train's 'cpu' profile: 4 layers x 4 heads x 128 with MLPs, 3500 steps of "
                  "16 x 63 bytes = 3.5M tokens from a 1 MB corpus, seed 0, about 5 minutes on one core) forms no sink "
                  "either (Sink_1 = 0 at the end), so no run here reaches a sink with enough data, and the absence "
                  "of one with little data is not diagnostic; the 40-step check also confounds little data with "
                  "few steps (the bigram-backcopy models of docs/gu_training.md need 150 steps or more before a "
                  "sink stays), and no run contrasts a small fixed pool of sequences with fresh ones at equal steps",
          paper_setting="60M-parameter models on 50M tokens, against the same models on 5B tokens, which do sink"),
    Claim("gu.open_models.first_token_sink", "gu", "Sections 3.3 and 3.4 (open models), Table 1",
          "Pretrained open models (GPT-2, Pythia, OPT, LLaMA, Mistral: all autoregressive) show first-token "
          "attention sinks.",
          "all-MiniLM-L6-v2 (a BERT encoder, bidirectional attention) has first-token ([CLS]) sinks: "
          "Sink_[CLS]^0.3 > 0, Gu et al.'s pooling (per sentence, layer and head) with the encoder importance "
          "(the mean over all queries, since every query sees [CLS]).",
          None, "out_of_scope", ("empirical.pretrained_sinks",), ("tests/test_empirical_pretrained.py",), "empirical",
          kind="empirical", statement_source="paper",
          setting=ENCODER_SETTING.format(n=20) + "; Sink_[CLS] is measured and reported, on an encoder that the claim "
                  "does not cover",
          paper_setting="autoregressive open LMs (GPT-2, Pythia from 14M, OPT, LLaMA, Mistral) on natural and "
                        "random-token inputs, 64 tokens, 100 sequences (Table 1: Sink_1 on natural text from 77.00 % "
                        "for GPT2-XL to 99.02 % for LLaMA3-8B)"),
)
