"""The claims of Gu et al. (ICLR 2025) on Table 1's input protocol (natural, random and repeated tokens)."""

from __future__ import annotations

from sinkcheck.ledger import Claim

_RUN = ("sinkcheck pretrained --inputs {kind}: T = 64 body ids per sequence (non-special ids of the tokenizer), sequence n "
        "drawn with seed (report seed, n), 20 sequences in the quick profile (100 in the full one)")
"""What the report runs for either record ({kind}: random or repeated)."""

_SCOPE = ("; no trained autoregressive LM runs here (offline, on CPU): MiniLM is a bidirectional encoder that the claim "
          "does not cover, the random-weight decoders have no sink on any random or repeated input, and the "
          "planted ones have a sink by construction, so the measurements are reported and decide nothing about the paper's models")
"""Why neither record can be decided here (the paper's setting is trained decoders)."""

CLAIMS: tuple[Claim, ...] = (
    Claim("gu.inputs.random_tokens", "gu", "Section 3.3 (Beyond natural languages), Table 1 (Left)",
          "Pretrained autoregressive LMs keep their first-token sink when the input is T random tokens from the "
          "vocabulary instead of text: Sink_1^0.3 of 70.29 % (GPT2-XL), 75.21 % (Mistral-7B), 90.13 % (LLaMA2-7B) "
          "and 91.23 % (LLaMA3-8B), against 77.00, 97.49, 92.47 and 99.02 % on natural text.",
          "On T = 64 random non-special ids inside the tokenizer's own special tokens, a model with a first-token "
          "sink on natural text keeps Sink_first^0.3 > 0 (Gu et al.'s pooling: thresholded per sequence, layer and "
          "head, then averaged); on all-MiniLM-L6-v2, a bidirectional encoder, Sink_[CLS] (encoder importance) is "
          "measured on natural and random inputs and reported.",
          None, "out_of_scope", ("gu_inputs.random_tokens",), ("tests/test_gu_inputs.py",), "gu_inputs",
          kind="empirical", statement_source="paper",
          setting="all-MiniLM-L6-v2 (6-layer BERT encoder, learned absolute positions), " + _RUN.format(kind="random")
                  + ", [CLS] in front and [SEP] after, beside its first 20 shipped sentences; random-weight 2-layer "
                  "LLaMA (RoPE), BLOOM (ALiBi) and GPT-2 (learned PE) decoders and the three planted decoders, each with <s> in "
                  "front and without special tokens" + _SCOPE,
          paper_setting="GPT2-XL, Mistral-7B, LLaMA2-7B Base and LLaMA3-8B Base, T = 64 random tokens from the "
                        "vocabulary, 100 sequences (Table 1 Left, natural / random Sink_1: 77.00 / 70.29, "
                        "97.49 / 75.21, 92.47 / 90.13, 99.02 / 91.23 %)"),
    Claim("gu.inputs.repeated_tokens", "gu", "Section 3.3 (Beyond natural languages), Table 1 (Left), Appendix C.1, "
          "Table 7",
          "With one random token repeated T times the first-token sink vanishes in the models whose positions are not "
          "added to the input (Sink_1 = 0.00 % for Mistral-7B, LLaMA2-7B and LLaMA3-8B, all RoPE) and persists in "
          "GPT2-XL (62.28 %), whose learned position vector p_1 singles the first position out (Appendix C.1's lemma: "
          "without positions in the input, equal tokens have equal hidden states in every layer; Table 7).",
          "Empirical, for trained decoders: on one random non-special id repeated T = 64 times, Sink_first^0.3 of "
          "a trained RoPE decoder is 0 and that of a learned-PE decoder stays > 0 (the paper does not say whether "
          "a BOS token preceded the repeated tokens; both framings are run). What Appendix C.1 proves is weaker: "
          "on a bare repeated token (no special token in front) a RoPE, ALiBi or NoPE decoder has equal hidden "
          "states at every position, and then no sink for ALiBi (Prop. 3) and none for RoPE only while "
          "||q|| ||k|| <= xi is small (Prop. 4), not Sink = 0 for every RoPE head. Measured and reported: "
          "all-MiniLM-L6-v2 (an encoder with learned positions), random-weight LLaMA, BLOOM and GPT-2 decoders, "
          "and three constructions: a RoPE LLaMA whose sink reads the BOS token's content (it needs <s>, so it is "
          "absent on bare random tokens too and does not test the lemma), a RoPE LLaMA whose sink needs no "
          "marker and no position vector (its first token differs only because its causal row holds itself "
          "alone), which must sink on bare random tokens and vanish on a bare repeated token, the contrast the "
          "lemma predicts, and a GPT-2 whose sink is planted on p_1, which must keep it either way.",
          None, "out_of_scope", ("gu_inputs.repeated_tokens",), ("tests/test_gu_inputs.py",), "gu_inputs",
          kind="empirical", statement_source="paper",
          setting="all-MiniLM-L6-v2, " + _RUN.format(kind="repeated") + ", between [CLS] and [SEP]; random-weight "
                  "2-layer LLaMA (RoPE), BLOOM (ALiBi) and GPT-2 (learned PE) decoders and the three planted decoders, "
                  "each with <s> in front and without special tokens" + _SCOPE + " (the random-weight decoders have no sink on "
                  "random tokens either, so their 0 on repeated tokens tests nothing; the lone-first-row plant's 25 % "
                  "on bare random against 0 % on bare repeated tokens is consistent with the lemma, on one "
                  "construction, and shows nothing about a trained sink)",
          paper_setting="GPT2-XL (learned PE), Mistral-7B, LLaMA2-7B Base and LLaMA3-8B Base (RoPE), one random token "
                        "repeated T = 64 times, 100 sequences (Table 1 Left, natural / repeated Sink_1: 77.00 / 62.28, "
                        "97.49 / 0.00, 92.47 / 0.00, 99.02 / 0.00 %); the paper does not say whether a BOS token "
                        "preceded the repeated tokens"),
)
