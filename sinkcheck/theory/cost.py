"""Cost of a bilinear form (docs/cost_identity.md).

Theorem (cost identity).  For W in R^{d_q x d_k},
min { ||W_Q||_F^2 + ||W_K||_F^2 : W_Q^T W_K = W } = 2 ||W||_*, reached by the balanced factors W_Q = S^{1/2} U^T, W_K = S^{1/2} V^T of an SVD W = U S V^T.

Proof.  (i) Lower bound: for any factors, ||W||_* = ||W_Q^T W_K||_* <= ||W_Q||_F ||W_K||_F
(Hoelder's inequality for Schatten norms, p = 1 = 1/2 + 1/2), and 2 x y <= x^2 + y^2 (AM-GM).
(ii) Attainment: ||S^{1/2} U^T||_F^2 = tr(S) = ||W||_*, the same for W_K, and
(S^{1/2} U^T)^T (S^{1/2} V^T) = U S V^T = W.

The symbolic steps are checked exactly by :func:`check_amgm_step` and
:func:`check_balanced_factorisation`; the Hoelder step is checked numerically in the tests.
"""

from __future__ import annotations

import sympy as sp


def check_amgm_step() -> bool:
    """x^2 + y^2 - 2 x y = (x - y)^2 exactly, so x^2 + y^2 >= 2 x y for real x, y (step (i))."""
    x, y = sp.symbols("x y", real=True)
    return sp.expand(x**2 + y**2 - 2 * x * y - (x - y) ** 2) == 0


def rational_orthogonal(n: int, seed: int) -> sp.Matrix:
    """An exactly orthogonal n x n rational matrix: the Cayley transform (I - A)(I + A)^{-1} of a
    skew-symmetric A with small integer entries."""
    import random

    rng = random.Random(seed)
    A = sp.zeros(n, n)
    for i in range(n):
        for j in range(i + 1, n):
            a = sp.Rational(rng.randint(-3, 3), rng.randint(1, 3))
            A[i, j], A[j, i] = a, -a
    eye = sp.eye(n)
    return (eye - A) * (eye + A).inv()


def check_balanced_factorisation(d_q: int = 3, d_k: int = 4, seed: int = 0) -> dict:
    """Step (ii) in exact arithmetic on W = U S V^T with rational orthogonal U, V and squares on S.

    Returns a dict with ``product_is_W`` and ``cost_equals_twice_nuclear`` (both must be True),
    and the exact cost and nuclear norm.
    """
    r = min(d_q, d_k)
    U = rational_orthogonal(d_q, seed)[:, :r]
    V = rational_orthogonal(d_k, seed + 1)[:, :r]
    roots = [sp.Rational(k + 1, 2) for k in range(r)]  # S^{1/2} rational, so S = diag(roots^2)
    S_half = sp.diag(*roots)
    W = U * S_half**2 * V.T
    W_Q, W_K = S_half * U.T, S_half * V.T
    cost = sum(x**2 for x in W_Q) + sum(x**2 for x in W_K)
    nuclear = sum(rt**2 for rt in roots)  # singular values of W are exactly roots^2
    return {
        "product_is_W": sp.simplify(W_Q.T * W_K - W) == sp.zeros(d_q, d_k),
        "cost_equals_twice_nuclear": sp.simplify(cost - 2 * nuclear) == 0,
        "cost": cost,
        "nuclear": nuclear,
    }
