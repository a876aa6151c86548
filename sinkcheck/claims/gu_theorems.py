"""The claims of Gu et al. (ICLR 2025), Appendix C.1: the repeated-token lemma and Propositions 1-4."""

from __future__ import annotations

from sinkcheck.ledger import Claim

_TESTS = ("tests/test_gu_theorems.py", "tests/test_gu_architectures.py")

CLAIMS: tuple[Claim, ...] = (
    Claim("gu.appc.repeated_token_lemma", "gu", "Appendix C.1, eqs. (10)-(17)",
          "For T copies of one token x, in an LM with NoPE, relative PE, ALiBi or RoPE (nothing added to the input, "
          "P = 0), every position has the same hidden state in every block, h_1^l = ... = h_T^l for 0 <= l <= L: "
          "equal inputs give equal queries, keys and values, and attention averages equal values (induction on l). "
          "With absolute or learned positions added to the input (GPT-2) the equality does not hold.",
          "In a causal transformer whose attention rows weight only the sequence's own values, with weights summing to "
          "the same total in every row (1 for softmax), whose other maps act position by position, and whose "
          "positions act only on the scores (a distance bias) or on q "
          "and k (RoPE), T copies of one token give h_1^l = ... = h_T^l in every layer, pre-norm or post-norm. "
          "Measured at T = 64 (float64 in the suite's GPT; transformers' models in float64 with their softmax in "
          "float32): at rounding on transformers' LLaMA (RoPE) and BLOOM (ALiBi) and on the "
          "suite's GPT with NoPE, T5 relative bias, ALiBi and RoPE, pre- and post-norm; above 1e-3 (relative) on "
          "GPT-2, on the suite's GPT with learned or sinusoidal input positions, and with a planted input position "
          "vector.",
          None, "holds", ("gu_theory.repeated_lemma",), _TESTS, "gu_appendix_c",
          kind="theorem", statement_source="paper"),
    Claim("gu.appc.prop1_nope", "gu", "Appendix C.1, Proposition 1 (eq. 18)",
          "For LMs with NoPE, the attention weights of t repeated tokens are 1/t each: there is no attention sink.",
          "With NoPE and T repeated tokens every weight of row t is exactly 1/t, so Gu et al.'s importance of the "
          "first token is alpha_1 = H_T / T (H_T the harmonic number): about 0.0741 at T = 64. 'No sink' holds in "
          "the sense that the first token gets the uniform share, and by the metric (alpha_1 <= 0.3) exactly from "
          "T = 10 on (at T <= 9 uniform weights already exceed 0.3, since A_11 = 1). Checked in sympy, on the "
          "suite's GPT with pos='nope' (pre- and post-norm) and on a LLaMA whose rotary frequencies are 0; a LLaMA "
          "with its rotary positions on is caught.",
          None, "holds", ("gu_theory.prop1_nope",), _TESTS, "gu_appendix_c",
          kind="theorem", statement_source="paper"),
    Claim("gu.appc.prop2_relative", "gu", "Appendix C.1, Proposition 2 (eqs. 19-20)",
          "For LMs with relative PE (a T5-style bias g_rel of the distance on the scores), there is no attention "
          "sink for t repeated tokens: the weights depend on g_rel only; the proof takes g_rel non-increasing in the "
          "distance and equal to B - 1 (the largest bucket number of Appendix B, eq. 6) beyond D, and calls the "
          "weights of the far positions, the first token's among them, 'the largest'.",
          "With a relative bias g(d) and T repeated tokens, A_tj = e^{g(t-j)} / sum_{d<t} e^{g(d)}. The first token "
          "gets at most the uniform share 1/t in every row t <= T iff e^{g(n)} <= mean_{d<n} e^{g(d)} for "
          "n = 1..T-1; every g non-increasing in d satisfies it, and then the first token has the smallest weight "
          "of every row (not the largest, as the proof says) and alpha_1 <= H_T / T (<= 0.3 from T = 10 on). "
          "Read the other way (g increasing up to its largest value B - 1 at distances >= D, so 'largest' is right "
          "and 'non-increasing' the slip), the first token ties with the t - D keys at distance >= D and gets at "
          "most 1/(t - D) in rows t > D: nothing at T = 64 < D = 128. Either way a hypothesis is needed. "
          "Without it the statement fails: the T5 bias equal to the bucket index (increasing in d) gives "
          "alpha_1 = 0.334 > 0.3 at T = 64, a first-token sink, in closed form and on the suite's GPT with "
          "pos='relative' (with T5's own bucketing; Appendix B's eq. (6) as printed gives 0.273). Any bias whose "
          "values span G obeys Prop. 4's bound with 2 xi = G, which rules out a sink only for t of order e^G.",
          "The relative bias is non-increasing in the distance (the proof assumes it, the statement does not, and a "
          "learned T5 bias need not be); exactly: e^{g(n)} <= mean_{d<n} e^{g(d)} for every n < T.",
          "holds_with_hypothesis", ("gu_theory.prop2_relative",), _TESTS, "gu_appendix_c",
          kind="theorem", statement_source="paper"),
    Claim("gu.appc.prop3_alibi", "gu", "Appendix C.1, Proposition 3 (eqs. 21-22)",
          "For LMs with ALiBi (a bias -m_h (i - j) with m_h > 0 on the scores), there is no attention sink for t "
          "repeated tokens: the weights depend on the bias only, which decreases with the distance.",
          "With ALiBi, g(d) = -m d, m > 0, and T repeated tokens, A_tj = e^{-m(t-j)} / sum_{d<t} e^{-m d}: the first "
          "token has the strictly smallest weight of every row t >= 2, so A_t1 < 1/t and alpha_1 < H_T / T "
          "(<= 0.3 from T = 10 on). Checked on random slopes and lengths, on transformers' BLOOM (its maps equal "
          "the closed form with Press et al.'s slopes 2^{-8h/H}, as in Appendix B's examples) and on the suite's "
          "GPT with pos='alibi'; a flipped slope is caught.",
          None, "holds", ("gu_theory.prop3_alibi",), _TESTS, "gu_appendix_c",
          kind="theorem", statement_source="paper"),
    Claim("gu.appc.prop4_rope", "gu", "Appendix C.1, Proposition 4 (eqs. 23-28)",
          "For LMs with RoPE, if ||q|| ||k|| <= xi, there is no attention sink for t repeated tokens when t is large; "
          "its proof (eq. 28) bounds every attention weight of row t by e^{2 xi} / (e^{2 xi} + t - 1), which tends "
          "to 0 as t grows.",
          "With RoPE, T repeated tokens and ||q|| ||k|| <= xi (in score units), every weight of row t is <= "
          "e^{2 xi} / (e^{2 xi} + t - 1); equality needs the scores xi on one key and -xi on the others, which a "
          "RoPE head reaches only in rows 2 and 3. For Gu et al.'s metric, alpha_1 <= (c / T)(psi(c + T) - psi(c)) "
          "with c = e^{2 xi}, a bound no RoPE head reaches for T >= 3; so, one-sided: no RoPE head with "
          "xi <= 1.0946 sinks at T = 64, and for a fixed xi a sink needs T <= T_max(xi), an upper bound on the "
          "largest sinking T: 53 (xi = 1), "
          "378 (xi = 2). "
          "A RoPE head with one rotary pair (q = -k, frequency 0.05) and xi = 10 does sink at T = 64 "
          "(alpha_1 = 0.302), so the smallest xi allowing a sink there lies in (1.0946, 10]. Checked in sympy, on "
          "random q, k and frequencies, and on transformers' "
          "LLaMA heads with xi from the model's own q and k; a wrong exponent (e^{xi}) is caught on a LLaMA head "
          "set to reach the bound in row 2.",
          None, "holds", ("gu_theory.prop4_rope",), _TESTS, "gu_appendix_c",
          kind="theorem", statement_source="paper"),
)
