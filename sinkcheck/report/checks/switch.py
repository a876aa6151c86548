"""Checks of docs/switch.md: sink = hard attention switch (Theorems S1-S4) and sink
representability (Prop. 4.1 as Theorems G and C of :mod:`sinkcheck.theory.sink_geometry`)."""

from __future__ import annotations

from math import comb

import numpy as np
from tqdm import tqdm

from sinkcheck.construct import sink_lp as sl
from sinkcheck.construct import switch_heads as sh
from sinkcheck.construct.sink_lp import PROBLEM_KINDS, sample_sink_problem
from sinkcheck.construct.switch_heads import pm_contents, sample_content_head
from sinkcheck.construct import sink_hulls as hulls
from sinkcheck.theory import sink_geometry as sg
from sinkcheck.theory import switch
from sinkcheck import profiles
from sinkcheck.report.registry import Certificate, Context, check
from sinkcheck.core.tables import Table



@check("switch.forward")
def switch_forward(ctx: Context) -> Certificate:
    """S1 on sampled heads (ratio ||o|| / bound <= 1), its attainment, and S4's softmax gap."""
    rng = np.random.default_rng(ctx.seed)
    n = profiles.get(ctx.profile).switch_forward_heads
    worst = 0.0
    for _ in tqdm(range(n), desc="switch.forward", disable=not ctx.progress):
        h = sample_content_head(rng, keys_move=True)
        Z = h["Z"].copy()
        Z[h["free"]] = rng.uniform(-2, 2, (len(h["free"]), h["d"]))
        a, v, o = sh.evaluate_head(Z, h["W"], h["V"], h["i"])
        bound = (1 - a[0]) * max(np.linalg.norm(v[1:], axis=1)) + a[0] * np.linalg.norm(v[0])
        worst = max(worst, float(np.linalg.norm(o) / bound) if bound > 0 else 0.0)
    rows = []
    for eps, R, k in [(0.1, 1.0, 1), (0.1, 1.0, 8), (0.01, 2.0, 10)]:
        t = sh.tight_values_head(eps, R, k)
        r = sh.over_contents(t["Z"], t["W"], t["V"], t["i"], t["free"], t["contents"])
        rows.append([eps, R, k, switch.softmax_gap_for_switch(eps, R, k), r["eps"], switch.forward_bound(t["a_P"], R, 0.0)])
    attained = max(abs(r[4] - r[5]) / r[5] for r in rows)
    ok = worst <= 1 + 1e-12 and attained < 1e-9 and switch.check_forward_attainment() and switch.check_softmax_gap()
    return Certificate(
        verdict="holds" if ok else "fails",
        parameters={"samples": n, "seed": ctx.seed},
        evidence={"max_ratio_output_to_bound": worst, "max_rel_attainment_gap": attained,
                  "symbolic_attainment": switch.check_forward_attainment(), "symbolic_gap": switch.check_softmax_gap()},
        tables={"attainment": Table(["eps", "R", "n", "gap Delta", "worst ||o||", "bound"], rows,
                                    title="Tight heads: worst output over contents equals the S1 bound")},
    )


def _converse(ctx: Context, keys_move: bool) -> tuple[int, int, float]:
    rng = np.random.default_rng(ctx.seed + (1 if keys_move else 0))
    n = profiles.get(ctx.profile).switch_converse_heads
    used, worst = 0, -np.inf
    model = "tokens" if keys_move else "values"
    for _ in tqdm(range(n), desc=f"switch.converse_{model}", disable=not ctx.progress):
        h = sample_content_head(rng, keys_move)
        R = float(rng.uniform(0.5, 3))
        keys = rng.uniform(-2, 2, (2, 3)) if keys_move else None
        r = sh.over_contents(h["Z"], h["W"], h["V"], h["i"], h["free"], pm_contents(h, R, keys))
        if r["eps"] >= R:
            continue
        used += 1
        homogeneous = [0, len(r["configs"]) - 1]
        # absolute excess of 1 - a_P over the bound (a ratio would amplify the rounding of 1 - a_P
        # when the bound is ~1e-10)
        worst = max(worst, float(r["deficits"][homogeneous].max() - switch.mass_deficit_bound(r["eps"], R, model)))
    return n, used, worst


def one_input_counterexample(head: dict) -> dict | None:
    """The head whose values cancel: output 0 on its one input with no mass on a zero-value
    position (so "switched off" must mean "for every content"), or None if it does not."""
    A, values, o = sh.evaluate_head(head["Z"], head["W"], head["V"], head["i"])
    zero_value_mass = float(sum(a for a, v in zip(A, values) if np.linalg.norm(v) < 1e-12))
    if np.linalg.norm(o) > 1e-12 or zero_value_mass > 0.5:
        return None
    return {"construction": "sinkcheck.construct.switch_heads.cancellation_head()", "output_norm": float(np.linalg.norm(o)),
            "mass_on_zero_values": zero_value_mass, "weights": A}


@check("switch.converse_values")
def switch_converse_values(ctx: Context) -> Certificate:
    """S2: content changes values only; mass on fixed positions >= 1 - eps/R, tight; counterexamples."""
    n, used, worst = _converse(ctx, keys_move=False)
    t = sh.tight_values_head(0.1, 1.0, 3)
    rt = sh.over_contents(t["Z"], t["W"], t["V"], t["i"], t["free"], t["contents"])
    c1, c2 = sh.cancellation_head(), sh.sink_cancellation_head(2.0)
    a1, _, o1 = sh.evaluate_head(c1["Z"], c1["W"], c1["V"], c1["i"])
    a2, v2, o2 = sh.evaluate_head(c2["Z"], c2["W"], c2["V"], c2["i"])
    ok = worst <= 1e-12 and used > n // 2 and abs(rt["deficits"].max() - 0.1) < 1e-12 and all(switch.symbolic_steps().values())
    one_input = one_input_counterexample(c1)  # "for every content" is needed: one input says nothing
    return Certificate(
        verdict=("holds_with_hypothesis" if one_input else "holds") if ok else "fails",
        counterexample=one_input,
        parameters={"samples": n, "seed": ctx.seed},
        evidence={"non_vacuous_samples": used, "max_excess_of_deficit_over_f": worst, "tight_head_deficit": float(rt["deficits"].max()),
                  "tight_head_eps": rt["eps"], "symbolic_steps": switch.symbolic_steps(),
                  "cancellation_output_norm": float(np.linalg.norm(o1)), "cancellation_zero_value_mass": float(a1[0] + a1[-1]),
                  "sink_cancellation_output_norm": float(np.linalg.norm(o2)), "sink_cancellation_sink_value_norm": float(np.linalg.norm(v2[0]))},
    )


@check("switch.converse_tokens")
def switch_converse_tokens(ctx: Context) -> Certificate:
    """S3: keys move with content; the value-only f = eps/R fails, g = 2 eps/(R + eps) holds and is sharp."""
    n, used, worst = _converse(ctx, keys_move=True)
    rows = []
    for ep in (0.0, 0.05, 0.09, 0.099, 0.0999):
        t = sh.tight_tokens_head(0.1, ep, 1.0, 2)
        r = sh.over_contents(t["Z"], t["W"], t["V"], t["i"], t["free"], t["contents"])
        rows.append([ep, r["eps"], float(r["deficits"].max()), 0.1, 2 * 0.1 / 1.1])
    broken = max(r[2] for r in rows)
    ok = worst <= 1e-12 and used > n // 2 and max(r[1] for r in rows) <= 0.1 + 1e-12 and broken > 0.1
    t = sh.tight_tokens_head(0.1, 0.09, 1.0, 2)
    one_input = one_input_counterexample(sh.cancellation_head())
    return Certificate(
        verdict=("holds_with_hypothesis" if one_input else "holds") if ok else "fails",
        parameters={"samples": n, "seed": ctx.seed, "eps": 0.1, "R": 1.0},
        evidence={"non_vacuous_samples": used, "max_excess_of_deficit_over_g": worst, "largest_deficit_of_construction": broken,
                  "value_only_f": 0.1, "g": 2 * 0.1 / 1.1, "symbolic_bound_step": switch.check_tokens_bound_step(),
                  "symbolic_tightness": switch.check_tokens_tightness()},
        counterexample={"value_only_bound_refuted": {
                            "claim_refuted": "1 - a_P <= eps/R when keys move with content",
                            "construction": "sinkcheck.construct.switch_heads.tight_tokens_head(0.1, 0.09, 1.0, 2)",
                            "Z": t["Z"], "W": t["W"], "contents": t["contents"], "deficit": t["b_plus"]},
                        "one_input": one_input},
        tables={"tightness": Table(["eps'", "max ||o||", "1 - a_P", "eps/R", "2eps/(R+eps)"], rows,
                                   title="Keys that move: deficit exceeds eps/R, approaches 2 eps/(R + eps)")},
    )


@check("sink.representability")
def sink_representability(ctx: Context) -> Certificate:
    """Theorem G vs the LP: agreement, certificates and witnesses on sampled embeddings."""
    rng = np.random.default_rng(ctx.seed)
    per_kind = profiles.get(ctx.profile).representability_per_kind
    rows, disagree, worst_res, worst_margin = [], 0, 0.0, np.inf
    for kind in tqdm(PROBLEM_KINDS, desc="sink.representability", disable=not ctx.progress):
        feas = infeas = fail_a = fail_b = 0
        for _ in range(per_kind):
            Z, J, mask = sample_sink_problem(rng, kind)
            res, cond = sl.decide(Z, J, 1.0, mask), hulls.alignment_condition(Z, J, mask)
            disagree += res.feasible != cond["representable"]
            fail_a += not cond["queries_in_open_halfspace"]
            fail_b += not cond["sink_separated_from_keys"]
            if res.feasible:
                feas += 1
                worst_margin = min(worst_margin, res.min_margin, sl.verify_margins(Z, J, hulls.rank_one_witness(Z, J, 1.0, mask), 1.0, mask))
            else:
                infeas += 1
                pairs, y = hulls.geometric_certificate(Z, J, mask)
                worst_res = max(worst_res, res.residual, sl.verify_certificate(Z, pairs, y))
        rows.append([kind, per_kind, feas, infeas, fail_a, fail_b])
    total_f, total_i = sum(r[2] for r in rows), sum(r[3] for r in rows)
    ok = disagree == 0 and worst_res < 1e-7 and worst_margin >= 1 - 1e-6 and total_f > 0 and total_i > 0
    return Certificate(
        verdict="holds" if ok else "fails",
        parameters={"per_kind": per_kind, "seed": ctx.seed, "kinds": list(PROBLEM_KINDS)},
        evidence={"disagreements_lp_vs_condition": disagree, "feasible": total_f, "infeasible": total_i,
                  "max_certificate_residual": worst_res, "min_witness_margin_over_kappa": float(worst_margin),
                  "symbolic_steps": sg.symbolic_steps()},
        tables={"agreement": Table(["kind", "samples", "LP feasible", "LP infeasible", "(a) fails", "(b) fails"], rows,
                                   title="LP decision vs alignment condition (they agree on every sample)")},
    )


@check("sink.cost")
def sink_cost(ctx: Context) -> Certificate:
    """Theorem C: min 2||W||_* vs 2 kappa sqrt(d)/(gamma_Q gamma_0); Wendel's half-space probability."""
    rng = np.random.default_rng(ctx.seed)
    n = profiles.get(ctx.profile).sink_cost_samples
    width, within, solved, skipped, rows = 0.0, 0, 0, 0, []
    for _ in tqdm(range(n), desc="sink.cost", disable=not ctx.progress):
        for mask in sl.MASKS:
            Z, J, _ = sample_sink_problem(rng, "anisotropic")
            if not hulls.alignment_condition(Z, J, mask)["representable"]:  # e.g. z_0 equal to a key
                skipped += 1
                continue
            opt, b = sl.min_nuclear_sink(Z, J, 1.0, mask), hulls.cost_bounds(Z, J, 1.0, mask)
            # certified on both sides: lower <= OPT/2 <= upper against cost_lower <= OPT <= cost (rounding 1e-12)
            solved += 1
            within += b["lower"] <= opt.cost / 2 * (1 + 1e-12) and opt.info["cost_lower"] / 2 <= b["upper"] * (1 + 1e-12)
            if mask == "full":  # the closed form pins OPT: lower and upper differ by the QP's accuracy
                width = max(width, b["upper"] / b["lower"] - 1)
            if len(rows) < 8:
                rows.append([mask, Z.shape[1], len(J), 2 * b["lower"], opt.cost, 2 * b["upper"]])
    d, trials = 3, profiles.get(ctx.profile).wendel_trials
    wendel = []
    for m in (2, 3, 4, 6, 8, 12):
        hits = 0
        for _ in range(trials):
            Q = rng.standard_normal((m, d))
            hits += not hulls.in_hull(Q / np.linalg.norm(Q, axis=1, keepdims=True), np.zeros(d))[0]
        # Monte Carlo estimate vs Wendel's exact probability
        wendel.append([m, d, hits / trials, sum(comb(m - 1, k) for k in range(d)) / 2 ** (m - 1)])
    ok = width < 1e-9 and within == solved and solved > 0
    return Certificate(
        verdict="holds" if ok else "fails",
        parameters={"samples_per_mask": n, "seed": ctx.seed, "wendel_trials": trials},
        evidence={"within_certified_bounds": within, "samples_solved": solved,
                  "full_mask_max_bound_width": width,
                  "unrepresentable_samples_skipped": skipped,
                  "symbolic_cosine_bounds": sg.check_cosine_bounds()},
        tables={"cost": Table(["mask", "d", "|J|", "2 lower", "2 OPT", "2 upper"], rows, title="Minimum QK cost of a sink"),
                "wendel": Table(["|J|", "d", "fraction in open half-space", "Wendel probability"], wendel,
                                title="Isotropic unit queries: condition (a) fails once |J| >> d")},
    )
