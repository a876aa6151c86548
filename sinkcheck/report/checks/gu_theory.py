"""Checks of Gu et al.'s Appendix C.1 (docs/gu_appendix_c.md; :mod:`sinkcheck.theory.repeated_tokens`,
:mod:`sinkcheck.evaluate.repeated_states`): the repeated-token lemma and Props. 1-4, in sympy, on
random instances, and on random-weight ``transformers`` models and the suite's GPT, each with a
planted error that the check must catch (else its verdict is "undecided")."""

from __future__ import annotations

import numpy as np
import torch

from sinkcheck import profiles
from sinkcheck.core.metrics import GU_EPS
from sinkcheck.core.tables import Table
from sinkcheck.core.tolerances import rounding_tolerance
from sinkcheck.evaluate import repeated_states as rs
from sinkcheck.report.registry import Certificate, Context, check
from sinkcheck.theory import repeated_tokens as rt

T = 64
"""Gu et al.'s sequence length (Section 3.2), the length of every repeated sequence here."""

TOL64 = rounding_tolerance(T)
"""The float64 rounding allowance of a softmax over T keys (the suite's GPT runs in float64)."""

TOL32 = rs.f32_tolerance(T)
"""The allowance for ``transformers`` models, whose softmax runs in float32."""

SINKING_XI, SINKING_OMEGA = 10.0, 0.05
"""A RoPE head with one rotary pair (frequency 0.05, q = -k) and ||q|| ||k|| = 10 that sinks at T:
with xi*, it brackets the smallest xi at which a RoPE head can sink."""

CAUGHT = 1e-3
"""A planted error, or a model outside the lemma, is caught when its gap exceeds this (over 16 times
the largest tolerance above)."""

SMALL = dict(n_layer=2, n_head=2, width=32, vocab_size=50)
"""The random ``transformers`` models: 2 layers, 2 heads (head size 16), width 32."""


def _hf(arch: str, seed: int):
    from sinkcheck.models.random_models import build

    return build(arch, seed=seed, **SMALL)


def _gpt(pos: str, norm: str = "pre", seed: int = 0):
    from sinkcheck.models.gpt import GPT, GPTConfig

    return GPT(GPTConfig(pos=pos, norm=norm, block_size=T, vocab_size=8, n_embd=32, n_head=2), seed=seed)


def _verdict(holds: bool, caught: bool, fail: str = "fails") -> str:
    return "undecided" if not caught else ("holds" if holds else fail)


@check("gu_theory.repeated_lemma")
def repeated_lemma(ctx: Context) -> Certificate:
    """h_1 = ... = h_T in every layer for position-free encodings; not with input positions."""
    seeds = range(ctx.seed, ctx.seed + profiles.get(ctx.profile).gu_appc_model_seeds)
    rows = []
    for seed in seeds:
        for arch, scheme in (("llama", "RoPE"), ("bloom", "ALiBi"), ("gpt2", "learned")):
            rows.append([f"transformers {arch}", scheme, seed, scheme != "learned",
                         max(rs.hidden_spread(rs.run(_hf(arch, seed), T=T)["hidden"])), TOL32])
        rows.append(["transformers llama + input PE (planted)", "RoPE", seed, False,
                     max(rs.hidden_spread(rs.run(_hf("llama", seed), T=T, input_pe=0.02)["hidden"])), TOL32])
        for pos in ("nope", "relative", "alibi", "rope", "learned", "sinusoidal"):
            for norm in ("pre", "post"):
                rows.append([f"suite GPT, {norm}-norm", pos, seed, pos not in ("learned", "sinusoidal"),
                             max(rs.hidden_spread(rs.gpt_run(_gpt(pos, norm, seed), T=T)["hidden"])), TOL64])
        rows.append(["suite GPT nope + input PE (planted)", "nope", seed, False,
                     max(rs.hidden_spread(rs.gpt_run(rs.slip_input_pe(_gpt("nope", seed=seed), seed), T=T)["hidden"])),
                     TOL64])
    inside = [r for r in rows if r[3]]
    outside = [r for r in rows if not r[3]]
    holds = all(r[4] <= r[5] for r in inside)
    caught = all(r[4] > CAUGHT for r in outside)
    return Certificate(
        verdict=_verdict(holds, caught),
        counterexample=None if holds else {"rows": [r for r in inside if r[4] > r[5]]},
        parameters={"T": T, "seeds": list(seeds), "models": SMALL, "caught_above": CAUGHT},
        evidence={"max_spread_inside": max(r[4] for r in inside), "min_spread_outside": min(r[4] for r in outside),
                  "models_inside": len(inside), "models_outside": len(outside)},
        tables={"spread": Table(["model", "positions", "seed", "lemma applies", "max_l,t |h_t - h_1| / |h_1|",
                                 "tolerance"], rows, title="Repeated tokens: hidden-state spread per model")})


@check("gu_theory.prop1_nope")
def prop1_nope(ctx: Context) -> Certificate:
    """Every weight is 1/t (NoPE), so alpha_1 = H_T / T."""
    causal, share = np.tri(T, dtype=bool), 1 / np.arange(1, T + 1)[:, None]
    gaps = [[f"suite GPT nope, {norm}-norm", max(float(np.abs(np.where(causal, A - share, 0)).max())
                                                 for maps in rs.gpt_run(_gpt("nope", norm, ctx.seed), T=T)["attn"]
                                                 for A in maps), TOL64] for norm in ("pre", "post")]
    gaps.append(["transformers llama, rotary frequencies 0", rs.uniform_gap(rs.nope_llama(rs.scale_qk(
        _hf("llama", ctx.seed), 10.0)), T=T), TOL32])
    planted = [["transformers llama, q/k x 10 (RoPE left on)", rs.uniform_gap(rs.scale_qk(_hf("llama", ctx.seed), 10.0),
                                                                              T=T), TOL32]]
    alpha = rt.uniform_alpha1(T)
    steps = {"prop1_uniform": rt.check_prop1_algebra()}
    holds = all(steps.values()) and all(g <= tol for _, g, tol in gaps)
    caught = all(g > CAUGHT for _, g, _t in planted)
    return Certificate(
        verdict=_verdict(holds, caught),
        parameters={"T": T, "eps": GU_EPS, "seed": ctx.seed},
        evidence={**steps, "alpha1_at_T": float(alpha), "alpha1_at_T_exact": str(alpha),
                  "no_sink_from_T": rt.uniform_no_sink_from(), "max_gap_to_1_over_t": max(g for _, g, _t in gaps),
                  "planted_gap": planted[0][1]},
        tables={"uniform": Table(["model", "max |A_tj - 1/t|", "tolerance"], gaps + planted,
                                 title="Prop. 1: weights of repeated tokens against 1/t (last row: planted)")})


def _buckets(n: int) -> np.ndarray:
    return np.array([rt.t5_bucket(d) for d in range(n)])


@check("gu_theory.prop2_relative")
def prop2_relative(ctx: Context) -> Certificate:
    """No first-token sink under a relative bias non-increasing in distance; an increasing one sinks."""
    rng = np.random.default_rng(ctx.seed)
    n = profiles.get(ctx.profile).gu_appc_instances
    worst_mono, worst_bounded, iff_agree = -np.inf, -np.inf, 0
    for _ in range(n):
        Tn = int(rng.integers(2, 2 * T + 1))
        table = rng.normal(0, rng.uniform(0.1, 4), 32)
        g = table[_buckets(Tn)]
        A = rt.repeated_weights(g)
        excess = rt.first_token_excess(g)
        over = (A[:, 0] - 1 / np.arange(1, Tn + 1)) > 1e-12
        iff_agree += (not excess) == (not over.any())
        G = float(g.max() - g.min())
        worst_bounded = max(worst_bounded, rt.alpha1(A) - float(rt.rope_alpha1_bound(G / 2, Tn)))
        mono = np.sort(table)[::-1][_buckets(Tn)]  # the same values, non-increasing in distance
        Am = rt.repeated_weights(mono)
        worst_mono = max(worst_mono, rt.alpha1(Am) - float(rt.uniform_alpha1(Tn)), len(rt.first_token_excess(mono)),
                         float(max((Am[i, 0] - Am[i, :i + 1].min() for i in range(Tn)), default=0.0)))
    rising = _buckets(T).astype(float)  # the bucket index itself as the bias: increasing in distance
    counter_alpha = rt.alpha1(rt.repeated_weights(rising))
    rows = []
    for name, table in (("zero (init)", None), ("-bucket (non-increasing)", -torch.arange(32.0)),
                        ("+bucket (increasing)", torch.arange(32.0))):
        model = _gpt("relative", seed=ctx.seed)
        if table is not None:
            with torch.no_grad():
                for b in model.blocks:
                    b.attn.rel_bias.copy_(table.expand_as(b.attn.rel_bias))
        heads = rs.relative_heads(model, T=T)
        rows.append([name, max(h["closed_form_gap"] for h in heads), max(h["alpha1"] for h in heads),
                     max(h["alpha1"] for h in heads) > GU_EPS])
    steps = {"prop2_bias_only": rt.check_bias_only_algebra()}
    holds = all(steps.values()) and worst_mono <= 1e-12 and worst_bounded <= 1e-12 and iff_agree == n \
        and all(r[1] <= TOL64 for r in rows)
    caught = counter_alpha > GU_EPS and rows[2][3]
    return Certificate(
        verdict=("holds_with_hypothesis" if caught else "undecided") if holds else "fails",
        counterexample={"bias": "g(d) = T5 bucket of d (increasing in d)", "T": T, "alpha1": counter_alpha,
                        "eps": GU_EPS, "suite_gpt_alpha1": rows[2][2]},
        parameters={"instances": n, "seed": ctx.seed, "T": T, "buckets": 32, "max_distance": 128},
        evidence={**steps, "worst_nonincreasing_margin": worst_mono, "worst_bounded_bias_margin": worst_bounded,
                  "excess_test_agrees": iff_agree, "counterexample_alpha1": counter_alpha},
        tables={"suite_gpt": Table(["relative bias table", "max |A - closed form|", "max alpha_1", "sink (> 0.3)"],
                                   rows, title="Prop. 2 on the suite's GPT (pos='relative'), repeated tokens")})


@check("gu_theory.prop3_alibi")
def prop3_alibi(ctx: Context) -> Certificate:
    """ALiBi gives the first token the smallest weight of every row, so alpha_1 < H_T / T."""
    rng = np.random.default_rng(ctx.seed + 1)
    n = profiles.get(ctx.profile).gu_appc_instances
    worst = -np.inf
    for _ in range(n):
        Tn, m = int(rng.integers(2, 2 * T + 1)), float(rng.uniform(2.0**-8, 1.0))
        A = rt.repeated_weights(-m * np.arange(Tn))
        strict = max(A[i, 0] - A[i, 1:i + 1].min() for i in range(1, Tn))
        worst = max(worst, strict, rt.alpha1(A) - float(rt.uniform_alpha1(Tn)))
    heads = rs.alibi_heads(_hf("bloom", ctx.seed), T=T)
    gpt = _gpt("alibi", seed=ctx.seed)
    gpt_gap = max(float(np.abs(A - rt.repeated_weights(-m * np.arange(T))).max())
                  for maps in rs.gpt_run(gpt, T=T)["attn"] for A, m in zip(maps, rt.alibi_slopes(2)))
    planted = max(float(np.abs(A - rt.repeated_weights(+m * np.arange(T))).max())  # slope sign flipped
                  for maps in rs.gpt_run(gpt, T=T)["attn"] for A, m in zip(maps, rt.alibi_slopes(2)))
    holds = worst < 0 and all(h["closed_form_gap"] <= TOL32 and h["first_is_row_min"] for h in heads) \
        and gpt_gap <= TOL64 and rt.check_bias_only_algebra()
    return Certificate(
        verdict=_verdict(holds, planted > CAUGHT),
        parameters={"instances": n, "seed": ctx.seed, "T": T},
        evidence={"worst_margin": worst, "bloom_max_gap": max(h["closed_form_gap"] for h in heads),
                  "bloom_max_alpha1": max(h["alpha1"] for h in heads), "suite_gpt_gap": gpt_gap,
                  "planted_flipped_slope_gap": planted, "uniform_alpha1": float(rt.uniform_alpha1(T))},
        tables={"bloom": Table(["layer", "head", "slope", "max |A - closed form|", "first = row min", "alpha_1"],
                               [[h["layer"], h["head"], h["slope"], h["closed_form_gap"], h["first_is_row_min"],
                                 h["alpha1"]] for h in heads], title="Prop. 3 on BLOOM, repeated tokens")})


@check("gu_theory.prop4_rope")
def prop4_rope(ctx: Context) -> Certificate:
    """Every RoPE weight is <= e^{2 xi} / (e^{2 xi} + t - 1); a head reaching it at t = 2; the
    one-sided thresholds it gives for the metric, and a RoPE head that does sink (xi = 10)."""
    rng = np.random.default_rng(ctx.seed + 2)
    n = profiles.get(ctx.profile).gu_appc_instances
    worst, worst_two = -np.inf, -np.inf
    for _ in range(n):
        d = 2 * int(rng.integers(1, 9))
        q, k = rng.normal(size=d) * rng.uniform(0.1, 2), rng.normal(size=d) * rng.uniform(0.1, 2)
        om = rt.rope_frequencies(d) if rng.random() < 0.5 else rng.uniform(0, np.pi, d // 2)
        A = rt.softmax_rows(rt.rope_scores(q, k, int(rng.integers(2, T + 1)), om))
        xi = float(np.linalg.norm(q) * np.linalg.norm(k))
        worst = max(worst, rt.bound_excess(A, xi))
        worst_two = max(worst_two, A[1].max() / rt.two_token_sup(xi, float(om.max())) - 1)
    steps = {k: v for k, v in rt.symbolic_steps().items() if k.startswith("prop4")}
    heads = []
    for scale in (1.0, 10.0):
        for h in rs.rope_heads(rs.scale_qk(_hf("llama", ctx.seed), scale), T=T):
            heads.append([f"q/k x {scale:g}", h["layer"], h["head"], h["xi"], h["recompute_gap"], h["bound_excess"],
                          h["exponent_used"], h["alpha1"]])
    tight = rs.rope_heads(rs.tight_rope_head(_hf("llama", ctx.seed), 1.5), T=T)[0]
    heads.append(["bound reached in row 2 (frequency pi)", 0, 0, tight["xi"], tight["recompute_gap"],
                  tight["bound_excess"], tight["exponent_used"], tight["alpha1"]])
    A_tight = rs.run(rs.tight_rope_head(_hf("llama", ctx.seed), 1.5), T=T)["attn"][0][0]
    planted = rt.bound_excess(A_tight, tight["xi"], exponent=1.0)  # e^{xi} instead of e^{2 xi}
    holds = all(steps.values()) and worst <= 1e-12 and worst_two <= 1e-12 \
        and all(r[4] <= TOL32 and r[5] <= TOL32 for r in heads) and tight["exponent_used"] >= 2 - 1e-3
    xi_star = rt.smallest_sink_xi(T)
    sinking = rt.one_pair_rope_alpha1(SINKING_XI, SINKING_OMEGA, T)  # the realisable side of xi*
    thresholds = [[x, rt.weight_no_sink_from(x), rt.largest_sink_T(x)] for x in (0.5, 1.0, 2.0, 3.0)]
    return Certificate(
        verdict=_verdict(holds, planted > CAUGHT),
        parameters={"instances": n, "seed": ctx.seed, "T": T, "eps": GU_EPS},
        evidence={**steps, "worst_bound_excess": worst, "worst_two_token_excess": worst_two,
                  "model_max_bound_excess": max(r[5] for r in heads), "tight_exponent_used": tight["exponent_used"],
                  "planted_exponent_1_excess": planted, "smallest_sink_xi_at_T": float(xi_star),
                  "one_pair_head": {"xi": SINKING_XI, "omega": SINKING_OMEGA, "alpha1": sinking,
                                    "sinks": sinking > GU_EPS}},
        tables={"llama": Table(["heads", "layer", "head", "xi", "recompute gap", "bound excess", "exponent used / xi",
                                "alpha_1"], heads, title="Prop. 4 on LLaMA heads, repeated tokens (T = 64)"),
                "thresholds": Table(["xi", "rows with bound <= 0.3 from t =", "largest T with alpha_1 bound > 0.3"],
                                    thresholds, title="Prop. 4: what the bound implies for Gu et al.'s metric")})
