"""When can a head make queries attend to a sink?  (Súkeník et al., Prop. 4.1, made precise.)

Statements and proofs (plain text)::

    Notation as in :mod:`sinkcheck.construct.sink_lp`: K_i = the non-sink keys query i sees.  Causal
    and full masks give key sets that form a chain (K_i subset K_k or K_k subset K_i); K_max = the
    largest (1..max J causal, 1..T full), K_min the smallest (it contains key 1).

    Theorem G (exact alignment condition; chain masks).  Some W_QK gives every query in J margin
    kappa > 0 on z_0 if and only if
      (a) the queries lie in an open half-space: 0 not in conv{z_i : i in J}
          (equivalently some q has q . z_i > 0 for all i in J), and
      (b) the sink is strictly separated from the keys: z_0 not in conv{z_j : j in K_max}.
    When they hold, a rank-one W = c q k^T works.  Proof.  (if) p = the min-norm point of conv Q,
    q = p/|p| gives q . z_i >= gamma_Q := |p| > 0; m = the point of conv K_max nearest z_0,
    k = (z_0 - m)/|z_0 - m| gives k . (z_0 - z_j) >= gamma_0 := |z_0 - m| > 0; W = kappa sqrt(d)
    q k^T / (gamma_Q gamma_0) has margins (q . z_i)(k . (z_0 - z_j)) kappa / (gamma_Q gamma_0) >= kappa
    because every K_i lies in K_max.  (only if) If (b) fails, z_0 = sum mu_j z_j over K_max: put
    y_{m j} = mu_j at the query m whose keys are K_max.  If (a) fails, sum lambda_i z_i = 0: put
    y_{i 1} = lambda_i (key 1 is in every K_i).  Either way sum y_ij z_i (z_0 - z_j)^T = 0 with
    y >= 0, sum y = 1, while a feasible W would give <W, that sum> = sum y_ij <W, M_ij> > 0.

    Corollaries.  One query (z_i != 0): feasible iff z_0 is not in conv of its keys.  Linearly
    independent queries: (a) holds, so feasibility is (b) alone (the per-query conditions decouple and
    are nested).  Equal norms |z_j| = rho (after LayerNorm): (b) iff cos(z_0, z_j) < 1 for every key,
    i.e. z_0 differs from every key, so the sink's own alignment is generic and the binding condition
    is (a), a condition on the queries alone (it fails for dependent/antipodal queries, e.g. when
    |J| > d isotropic queries surround the origin; Wendel: P(a) = 2^{1-n} sum_{k<d} C(n-1, k)).

    Theorem C (minimum cost).  Full mask: min ||W||_* = kappa sqrt(d) / (gamma_Q gamma_0), i.e. cost
    2 kappa sqrt(d) / (gamma_Q gamma_0), attained by the rank-one W (lower bound: trace duality with
    G = sum lambda_i mu_j M_ij = p (z_0 - m)^T, ||G||_op = gamma_Q gamma_0).  Causal mask: the same
    value is an upper bound; lower bounds kappa sqrt(d) / (gamma_Q |z_0 - z_j|) for j in K_min and
    kappa sqrt(d) / (|z_i| dist(z_0, conv K_i)) for i in J.  With equal norms rho and
    c = max cos(z_0, z_j):  rho (1 - c) <= gamma_0 <= rho sqrt(2 (1 - c)), so the cost of a sink blows
    up as the sink aligns with a key (c -> 1) and is small when the sink is far from every key:
    this, not feasibility, is where the cosines of the paper's Figure 1 enter.

The numbers these theorems speak of (hull distances, the conditions decided, the rank-one witness,
the cost bounds) are computed in :mod:`sinkcheck.construct.sink_hulls`; this module keeps the
statement, the closed-form cosine bounds and the symbolic steps.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from sinkcheck import validate


def cosine_gamma_bounds(rho: float, cos_max: float) -> tuple[float, float]:
    """Equal norms rho: rho (1 - c) <= gamma_0 <= rho sqrt(2 (1 - c)), c = max_j cos(z_0, z_j)."""
    rho = validate.positive("rho", rho)
    cos_max = validate.in_interval("cos_max", cos_max, -1.0, 1.0)
    return rho * (1.0 - cos_max), rho * float(np.sqrt(2.0 * (1.0 - cos_max)))


# ---------------------------------------------------------------- symbolic steps
def check_regrouping(n_q: int = 2, n_k: int = 3, d: int = 2) -> bool:
    """sum_ij y_ij z_i (z_0 - z_j)^T = sum_i z_i (Y_i z_0 - sum_j y_ij z_j)^T (symbolic)."""
    z0 = sp.Matrix(sp.symbols(f"w0:{d}", real=True))
    zq = [sp.Matrix(sp.symbols(f"q{i}_0:{d}", real=True)) for i in range(n_q)]
    zk = [sp.Matrix(sp.symbols(f"k{j}_0:{d}", real=True)) for j in range(n_k)]
    y = [[sp.Symbol(f"y{i}{j}", nonnegative=True) for j in range(n_k)] for i in range(n_q)]
    lhs = sum((y[i][j] * zq[i] * (z0 - zk[j]).T for i in range(n_q) for j in range(n_k)), sp.zeros(d, d))
    rhs = sum((zq[i] * (sum(y[i]) * z0 - sum((y[i][j] * zk[j] for j in range(n_k)), sp.zeros(d, 1))).T
               for i in range(n_q)), sp.zeros(d, d))
    return sp.expand(lhs - rhs) == sp.zeros(d, d)


def check_rank_one_score(d: int = 3) -> bool:
    """``x^T (q k^T) y = (q . x)(k . y)`` and ``(q k^T)^T (q k^T) = norm(q)^2 k k^T``, so the
    nuclear norm of q k^T is norm(q) norm(k)."""
    x, y, q, k = (sp.Matrix(sp.symbols(f"{s}0:{d}", real=True)) for s in "xyqk")
    W = q * k.T
    score_ok = sp.expand((x.T * W * y)[0] - (q.dot(x)) * (k.dot(y))) == 0
    gram_ok = sp.expand(W.T * W - q.dot(q) * k * k.T) == sp.zeros(d, d)
    return bool(score_ok and gram_ok)


def check_positive_combination_kills_margin(n: int = 3, d: int = 2) -> bool:
    """sum_i lam_i z_i^T W x = (sum_i lam_i z_i)^T W x: if sum lam_i z_i = 0 the weighted margins
    sum to 0, impossible when each is > 0 and lam >= 0, lam != 0 (necessity of (a))."""
    W = sp.Matrix(d, d, sp.symbols(f"W0:{d * d}", real=True))
    x = sp.Matrix(sp.symbols(f"x0:{d}", real=True))
    lam = sp.symbols(f"l0:{n}", nonnegative=True)
    zs = [sp.Matrix(sp.symbols(f"z{i}_0:{d}", real=True)) for i in range(n)]
    lhs = sum(lam[i] * (zs[i].T * W * x)[0] for i in range(n))
    rhs = (sum((lam[i] * zs[i] for i in range(n)), sp.zeros(d, 1)).T * W * x)[0]
    return sp.expand(lhs - rhs) == 0


def check_cosine_bounds() -> bool:
    """Equal norms: ``norm(z_0 - z_j)^2 = 2 rho^2 (1 - c)``, and rho (1 - c) <= rho sqrt(2 (1 - c))
    on c in [-1, 1] because (1 - c)^2 <= 2 (1 - c) is equivalent to (1 - c)(c + 1) >= 0."""
    rho, c = sp.symbols("rho c", positive=True)
    dist2 = rho**2 + rho**2 - 2 * rho**2 * c  # |z_0|^2 + |z_j|^2 - 2 <z_0, z_j>
    ok1 = sp.simplify(dist2 - 2 * rho**2 * (1 - c)) == 0
    ok2 = sp.expand(2 * (1 - c) - (1 - c) ** 2 - (1 - c) * (1 + c)) == 0
    return bool(ok1 and ok2)


def check_gamma_0_lower_bound() -> bool:
    """Equal norms rho, cosines c_j = cos(z_0, z_j) <= c: every hull point m = sum mu_j z_j has
    <z_0, z_0 - m> = rho^2 (1 - c) + rho^2 sum mu_j (c - c_j) >= rho^2 (1 - c) (checked exactly for
    three keys, mu_3 = 1 - mu_1 - mu_2), so norm(z_0 - m) >= rho (1 - c) by Cauchy-Schwarz: gamma_0 >= rho (1 - c)."""
    rho, c, c1, c2, c3, m1, m2 = sp.symbols("rho c c_1 c_2 c_3 mu_1 mu_2", real=True)
    mu, cos = (m1, m2, 1 - m1 - m2), (c1, c2, c3)
    inner = rho**2 - sum(w * rho**2 * cj for w, cj in zip(mu, cos))  # <z_0, z_0 - m>, <z_0, z_j> = rho^2 c_j
    return sp.expand(inner - rho**2 * (1 - c) - rho**2 * sum(w * (c - cj) for w, cj in zip(mu, cos))) == 0


def symbolic_steps() -> dict[str, bool]:
    """Every symbolic step of Theorems G and C, by name."""
    return {
        "G_regrouping": check_regrouping(),
        "G_rank_one_score": check_rank_one_score(),
        "G_positive_combination": check_positive_combination_kills_margin(),
        "C_cosine_bounds": check_cosine_bounds(),
        "C_gamma_0_lower": check_gamma_0_lower_bound(),
    }
