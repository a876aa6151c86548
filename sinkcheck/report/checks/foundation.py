"""Checks of the foundation: the cost identity of docs/cost_identity.md."""

from __future__ import annotations

import numpy as np

from sinkcheck.construct.factors import balanced_factors, nuclear_norm, qk_cost
from sinkcheck.theory import cost
from sinkcheck import profiles
from sinkcheck.report.registry import Certificate, Context, check
from sinkcheck.core.tables import Table
from sinkcheck.core.tolerances import margin, rounding_tolerance


def sample_matrix(rng: np.random.Generator, d_q: int, d_k: int, rank: int) -> np.ndarray:
    """A random d_q x d_k matrix of the given rank (rank-deficient when rank < min(d_q, d_k))."""
    return rng.standard_normal((d_q, rank)) @ rng.standard_normal((rank, d_k))


@check("cost.identity")
def cost_identity(ctx: Context) -> Certificate:
    """min ||W_Q||^2 + ||W_K||^2 over W_Q^T W_K = W is 2 ||W||_*: exact steps + sampled W."""
    rng = np.random.default_rng(ctx.seed)
    n = profiles.get(ctx.profile).cost_identity_samples
    symbolic = cost.check_balanced_factorisation(3, 4, seed=ctx.seed)
    rows, worst_attain, worst_lower = [], 0.0, np.inf
    for _ in range(n):
        d_q, d_k = (int(v) for v in rng.integers(1, 9, size=2))
        rank = int(rng.integers(1, min(d_q, d_k) + 1))
        W = sample_matrix(rng, d_q, d_k, rank)
        W_Q, W_K = balanced_factors(W)
        nuc = nuclear_norm(W)
        attain = abs(qk_cost(W_Q, W_K) - 2 * nuc) / max(1.0, nuc)
        # any other factorisation costs at least as much: random invertible re-mixing G
        G = rng.standard_normal((W_Q.shape[0], W_Q.shape[0])) + 3 * np.eye(W_Q.shape[0])
        other = qk_cost(np.linalg.inv(G).T @ W_Q, G @ W_K)
        lower_slack = (other - 2 * nuc) / max(1.0, nuc)
        worst_attain = max(worst_attain, attain)
        worst_lower = min(worst_lower, lower_slack)
        if len(rows) < 8:
            rows.append([d_q, d_k, rank, 2 * nuc, qk_cost(W_Q, W_K), other])
    ok = symbolic["product_is_W"] and symbolic["cost_equals_twice_nuclear"] and cost.check_amgm_step()
    # rounding: the cost sums 2 * 8 * 8 squares, the SVD is backward stable (O(d u)); the re-mixed
    # cost adds two 8 x 8 products and an inverse (its slack is >= 0 in exact arithmetic)
    tol = rounding_tolerance(2 * 8 * 8 + 8)
    ok = ok and worst_attain <= tol and worst_lower >= -tol
    return Certificate(
        verdict="holds" if ok else "fails",
        parameters={"samples": n, "seed": ctx.seed, "shapes": "d_q, d_k in 1..8, any rank"},
        evidence={
            "exact_product_is_W": symbolic["product_is_W"],
            "exact_cost_equals_twice_nuclear": symbolic["cost_equals_twice_nuclear"],
            "amgm_identity": cost.check_amgm_step(),
            "max_relative_attainment_error": worst_attain,
            "attainment": margin(worst_attain, tol),
            "min_relative_slack_of_other_factorisations": worst_lower,
        },
        tables={
            "cost_identity": Table(
                ["d_q", "d_k", "rank", "2 nuclear(W)", "balanced cost", "re-mixed cost"], rows,
                title="Balanced factors attain 2 nuclear(W); re-mixed factors cost more",
            )
        },
    )
