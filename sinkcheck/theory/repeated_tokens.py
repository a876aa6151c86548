"""Gu et al. (ICLR 2025), Appendix C.1: attention on a sequence of T copies of one token, under
each positional encoding (docs/gu_appendix_c.md).

Setting.  Causal softmax attention; row t (1-indexed) sees keys j = 1..t.  By the lemma of C.1,
with nothing position-dependent added to the input every position has the same query q and key k,
so the score of (t, j) is q k^T plus whatever the encoding adds, a function of the distance
d = t - j only: g(d) (relative PE, ALiBi) or q R_{d} k^T (RoPE).  Hence A_{t,j} = e^{g(t-j)} /
sum_{d<t} e^{g(d)} (Props. 1-3, eq. 20 and 22; :func:`repeated_weights`).  The metric is Gu et
al.'s importance alpha_1 = (1/T) sum_t A_{t,1}, a sink when alpha_1 > eps (Section 3.2); note
A_{1,1} = 1, so alpha_1 >= 1/T always.

- Prop. 1 (NoPE, g = 0): A_{t,j} = 1/t, so alpha_1 = H_T / T (H_T the harmonic number), which is
  <= 0.3 exactly from T = 10 on (:func:`uniform_alpha1`, :func:`uniform_no_sink_from`).
- Prop. 2 (relative bias): A_{t,1} <= 1/t for every t <= T iff e^{g(n)} <= mean_{d<n} e^{g(d)}
  for n = 1..T-1 (:func:`first_token_excess`); a bias non-increasing in d (the proof's assumption)
  satisfies it, so alpha_1 <= H_T / T.  The first token then gets the *smallest* weight of its row
  (the proof says "the largest").  A learned T5 bias need not be monotone: an increasing one can
  put a sink on the first token, e.g. the bucket index itself (:func:`t5_bucket`).  Read the other
  way (g increasing, largest beyond D), the first token ties with the t - D keys at distance >= D
  and gets at most 1/(t - D) in rows t > D (:func:`first_token_tie_bound`).  Any bias whose values
  span G obeys Prop. 4's bound with 2 xi = G.
- Prop. 3 (ALiBi, g(d) = -m d with m > 0, :func:`alibi_slopes`): strictly decreasing, so
  A_{t,1} < 1/t for t >= 2.
- Prop. 4 (RoPE, ||q|| ||k|| <= xi): every score lies in [-xi, xi], so A_{t,j} <= e^{2 xi} /
  (e^{2 xi} + t - 1) (:data:`ROPE_BOUND`), with equality for scores xi at j and -xi elsewhere,
  which a RoPE score s(d) of the distance alone reaches only in rows 2 and 3; averaged,
  alpha_1 <= (c / T)(psi(c + T) - psi(c)) with c = e^{2 xi} (:func:`rope_alpha1_bound`, never
  reached for T >= 3).  Hence one-sided thresholds: no head with xi <= xi* sinks at T
  (:func:`smallest_sink_xi`), and a head sinks only at T <= T_max(xi) (:func:`largest_sink_T`);
  :func:`one_pair_rope_alpha1` is a head that does sink.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from sinkcheck import validate
from sinkcheck.core.metrics import GU_EPS

xi, t, T, c, s = sp.symbols("xi t T c s", positive=True)

ROPE_BOUND = sp.exp(2 * xi) / (sp.exp(2 * xi) + t - 1)
"""Prop. 4's bound on every weight of row t of a RoPE head with ||q|| ||k|| <= xi (eq. 28)."""

_DIGITS = 40


# ---------------------------------------------------------------- weights of a repeated sequence
def repeated_weights(g) -> np.ndarray:
    """The (T, T) causal map of T repeated tokens whose scores differ only by a bias g(d) of the
    distance d = t - j: A_{t,j} = e^{g(t-j)} / sum_{d<t} e^{g(d)} (eq. 20, 22); g = (g(0), ...,
    g(T-1)), 0-indexed rows and columns."""
    g = validate.finite_array("g", g, ndim=1)
    n = g.shape[0]
    d = np.subtract.outer(np.arange(n), np.arange(n))
    S = np.where(d >= 0, g[np.clip(d, 0, None)], -np.inf)
    S = S - S.max(axis=1, keepdims=True)
    E = np.exp(S)
    return E / E.sum(axis=1, keepdims=True)


def alpha1(A: np.ndarray) -> float:
    """Gu et al.'s importance of the first token, (1/T) sum_t A_{t,1}, of one causal map."""
    A = validate.finite_array("A", A, ndim=2)
    return float(A[:, 0].mean())


def uniform_alpha1(T_: int) -> Fraction:
    """alpha_1 of the uniform map (Prop. 1, A_{t,j} = 1/t): H_T / T, exactly."""
    T_ = validate.integer_at_least("T", T_, 1)
    return sum((Fraction(1, k) for k in range(1, T_ + 1)), Fraction(0)) / T_


def uniform_no_sink_from(eps: Fraction = Fraction(3, 10)) -> int:
    """The smallest T with H_T / T <= eps; H_T / T decreases in T, so no T beyond it sinks."""
    if not 0 < eps < 1:
        raise validate.InvalidInputError(f"eps: must lie in (0, 1) (got {eps!r})")
    n = 1
    while uniform_alpha1(n) > eps:
        n += 1
    return n


def first_token_excess(g) -> list[int]:
    """The distances n (1 <= n < len(g)) at which the first token of row n + 1 gets more than the
    uniform share: e^{g(n)} > mean_{d<n} e^{g(d)}, i.e. A_{n+1,1} > 1/(n+1).  Empty iff the first
    token never gets more than 1/t; empty for every non-increasing g (Prop. 2's assumption)."""
    g = validate.finite_array("g", g, ndim=1)
    out = []
    with mpmath.workdps(_DIGITS):  # ties (equal biases) must compare equal: 40 digits, then a 1e-25 margin
        e = [mpmath.exp(mpmath.mpf(float(x))) for x in g]
        total = mpmath.mpf(0)
        for n in range(1, len(e)):
            total += e[n - 1]
            if e[n] * n > total * (1 + mpmath.mpf(10) ** -25):
                out.append(n)
    return out


def t5_bucket(d: int, num_buckets: int = 32, max_distance: int = 128) -> int:
    """T5's causal bucket of distance d >= 0, as T5 computes it (Raffel et al.): exact below
    num_buckets / 2, then log-spaced up to max_distance, then the last bucket.  Gu et al.'s
    Appendix B eq. (6) describes it, but its printed form differs (:func:`appendix_b_bucket`)."""
    d = validate.integer_at_least("d", d, 0)
    exact = num_buckets // 2
    if d < exact:
        return d
    b = exact + int(math.log(d / exact) / math.log(max_distance / exact) * (num_buckets - exact))
    return min(b, num_buckets - 1)


def appendix_b_bucket(d: int, B: int = 32, D: int = 128) -> int:
    """Gu et al.'s Appendix B eq. (6) as printed (natural log): d below B/2, then
    B/2 + floor(log(d / (B/2))) B/2 below D, then B - 1.  Not T5's bucketing (:func:`t5_bucket`):
    it jumps from B/2 to B at d = 44 (> B - 1), so it may be a slip of the text or its transcription."""
    d = validate.integer_at_least("d", d, 0)
    if d < B // 2:
        return d
    return B // 2 + math.floor(math.log(d / (B / 2))) * (B // 2) if d < D else B - 1


def first_token_tie_bound(t_: int, D: int) -> float:
    """1 / (t - D) for t > D, else 1: the most the first token of row t can get when g is largest
    (and equal) at every distance >= D, since it ties with the t - D keys j <= t - D (Prop. 2's
    proof read with g increasing up to B - 1)."""
    t_ = validate.integer_at_least("t", t_, 1)
    D = validate.integer_at_least("D", D, 1)
    return 1.0 / (t_ - D) if t_ > D else 1.0


def alibi_slopes(H: int) -> list[float]:
    """ALiBi's head slopes m_h = 2^{-8h/H}, h = 1..H (Press et al.; the examples of Gu et al.'s
    Appendix B; its eq. (7) as transcribed reads 2^{-hH/8}, equal only at H = 8; H a power of 2)."""
    H = validate.integer_at_least("H", H, 1)
    if H & (H - 1):
        raise validate.InvalidInputError(f"H: must be a power of 2 (got {H})")
    return [2.0 ** (-8.0 * h / H) for h in range(1, H + 1)]


# ---------------------------------------------------------------- RoPE (Prop. 4)
def rope_bound(xi_: float, t_: int, exponent: float = 2.0) -> float:
    """e^{2 xi} / (e^{2 xi} + t - 1), Prop. 4's bound on every weight of row t (``exponent``
    replaces the 2, only to plant an error)."""
    xi_ = validate.nonnegative("xi", xi_)
    t_ = validate.integer_at_least("t", t_, 1)
    return 1.0 / (1.0 + (t_ - 1) * math.exp(-exponent * xi_))


def rope_frequencies(d_h: int, base: float = 10000.0) -> np.ndarray:
    """omega_i = base^{-2(i-1)/d_h}, i = 1..d_h/2 (Appendix B)."""
    d_h = validate.integer_at_least("d_h", d_h, 2)
    return base ** (-2.0 * np.arange(d_h // 2) / d_h)


def rope_scores(q: np.ndarray, k: np.ndarray, T_: int, omegas: np.ndarray) -> np.ndarray:
    """(T, T) scores q R_{t-j} k^T of T repeated tokens, R the block rotation of Appendix B
    (pairs (2i, 2i+1) turned by (t - j) omega_i); -inf above the diagonal."""
    q = validate.finite_array("q", q, ndim=1)
    k = validate.finite_array("k", k, ndim=1, shape=q.shape)
    d = np.arange(T_)
    qc, kc = q[0::2] + 1j * q[1::2], k[0::2] + 1j * k[1::2]
    # q R_m k^T = Re(sum_i conj(q_i) k_i e^{i m w_i}), q_i = q_{2i} + i q_{2i+1}, for the row-vector rotation R_m
    per_d = np.real((np.conj(qc) * kc)[None, :] * np.exp(1j * np.outer(d, omegas))).sum(axis=1)
    dist = np.subtract.outer(d, d)
    return np.where(dist >= 0, per_d[np.clip(dist, 0, None)], -np.inf)


def softmax_rows(S: np.ndarray) -> np.ndarray:
    """Row softmax of a causal score matrix (-inf = masked)."""
    S = S - S.max(axis=1, keepdims=True)
    E = np.exp(S)
    return E / E.sum(axis=1, keepdims=True)


def bound_excess(A: np.ndarray, xi_: float, exponent: float = 2.0) -> float:
    """max over (t, j <= t) of A_{t,j} / bound(xi, t) - 1: <= 0 iff every weight obeys the bound
    (``exponent`` only to plant an error)."""
    A = validate.finite_array("A", A, ndim=2)
    rows = np.array([rope_bound(xi_, n + 1, exponent) for n in range(A.shape[0])])
    return float((A / rows[:, None]).max() - 1.0)


def two_token_sup(xi_: float, omega: float) -> float:
    """The largest weight any RoPE pair (q, k) with ||q|| ||k|| = xi can give in row 2 when its
    largest frequency is omega in (0, pi]: 1 / (1 + e^{-2 sin(omega/2) xi}) (ours; Prop. 4's bound
    is the case omega = pi).  The score gap q (I - R_1) k^T is at most xi ||I - R_1|| = 2 sin(omega/2) xi."""
    xi_ = validate.nonnegative("xi", xi_)
    validate.in_interval("omega", omega, 0.0, math.pi)
    return 1.0 / (1.0 + math.exp(-2.0 * math.sin(omega / 2.0) * xi_))


def rope_alpha1_bound(xi_, T_: int):
    """An upper bound on alpha_1 of T repeated tokens under a RoPE head with ||q|| ||k|| <= xi:
    (1/T) sum_{t=1}^T e^{2 xi}/(e^{2 xi} + t - 1), exact to 40 digits (an mpmath number).  Not
    reached for T >= 3: it needs s(t-1) = xi in row t and -xi in row t + 1, which a score of the
    distance alone cannot give."""
    xi_ = validate.nonnegative("xi", float(xi_))
    T_ = validate.integer_at_least("T", T_, 1)
    with mpmath.workdps(_DIGITS):
        cc = mpmath.e ** (2 * mpmath.mpf(xi_))
        return cc * (mpmath.digamma(cc + T_) - mpmath.digamma(cc)) / T_


def largest_sink_T(xi_: float, eps: float = GU_EPS) -> int:
    """T_max(xi): the largest T at which :func:`rope_alpha1_bound` exceeds eps, an upper bound on
    the T at which a RoPE head with ||q|| ||k|| <= xi sinks (the bound decreases in T: an average
    of decreasing terms)."""
    xi_ = validate.nonnegative("xi", xi_)
    validate.in_interval("eps", eps, 1e-12, 1.0 - 1e-12)
    eps_ = mpmath.mpf(eps)
    hi = 2
    while rope_alpha1_bound(xi_, hi) > eps_:
        hi *= 2
    lo = hi // 2 if hi > 2 else 1  # rope_alpha1_bound(lo) > eps (T = 1 gives 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if rope_alpha1_bound(xi_, mid) > eps_ else (lo, mid)
    return lo


def smallest_sink_xi(T_: int, eps: float = GU_EPS):
    """The xi* at which rope_alpha1_bound(xi*, T) = eps: a RoPE head with ||q|| ||k|| <= xi* has
    no sink at T (alpha_1 <= eps), a sufficient condition only (the smallest xi at which a RoPE head
    does sink may be larger).  0 when even NoPE sinks (H_T / T > eps).  Bisection to 40 digits (the
    bound increases in xi)."""
    T_ = validate.integer_at_least("T", T_, 1)
    validate.in_interval("eps", eps, 1e-12, 1.0 - 1e-12)
    with mpmath.workdps(_DIGITS):
        eps_ = mpmath.mpf(eps)
        if rope_alpha1_bound(0, T_) > eps_:
            return mpmath.mpf(0)
        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        while rope_alpha1_bound(hi, T_) <= eps_:
            hi *= 2
        for _ in range(160):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if rope_alpha1_bound(mid, T_) <= eps_ else (lo, mid)
        return lo


def one_pair_rope_alpha1(xi_: float, omega: float, T_: int) -> float:
    """alpha_1 of T repeated tokens under a RoPE head with one rotary pair of frequency omega and
    q = -k, ||q|| ||k|| = xi: scores s(d) = -xi cos(d omega) rise with the distance up to pi / omega,
    so the first token gets the highest score of each row t <= 1 + pi / omega (a realisable sink for
    large enough xi)."""
    xi_ = validate.nonnegative("xi", xi_)
    T_ = validate.integer_at_least("T", T_, 1)
    q = np.array([math.sqrt(xi_), 0.0])
    return alpha1(softmax_rows(rope_scores(q, -q, T_, np.array([float(omega)]))))


def weight_no_sink_from(xi_: float, eps: float = GU_EPS) -> int:
    """The smallest t from which Prop. 4's bound on every weight of row t is <= eps:
    t >= 1 + e^{2 xi} (1 - eps) / eps."""
    xi_ = validate.nonnegative("xi", xi_)
    validate.in_interval("eps", eps, 1e-12, 1.0 - 1e-12)
    with mpmath.workdps(_DIGITS):
        return int(mpmath.ceil(1 + mpmath.e ** (2 * mpmath.mpf(xi_)) * (1 - mpmath.mpf(eps)) / mpmath.mpf(eps)))


# ---------------------------------------------------------------- symbolic steps
def check_prop1_algebra(n: int = 6) -> bool:
    """Prop. 1 (eq. 18): n equal scores s give weights e^s / (n e^s) = 1/n, exactly."""
    w = sp.exp(s) / sum(sp.exp(s) for _ in range(n))
    return sp.simplify(w - sp.Rational(1, n)) == 0


def check_bias_only_algebra(n: int = 4) -> bool:
    """Props. 2 and 3 (eq. 20, 22): a score q k^T + g(d) common to the row cancels, and the weights
    depend on g alone."""
    g = sp.symbols(f"g0:{n}", real=True)
    full = sp.exp(s + g[0]) / sum(sp.exp(s + gi) for gi in g)
    return sp.simplify(full - sp.exp(g[0]) / sum(sp.exp(gi) for gi in g)) == 0


def check_prop4_algebra(bound=ROPE_BOUND) -> dict[str, bool]:
    """Prop. 4's steps against ``bound`` (the paper's by default; a planted one to test this):
    the extreme row (score xi at j, -xi at the other t - 1 keys) gives exactly ``bound`` (so no lower
    bound holds for scores free in [-xi, xi]; a RoPE head reaches that row only at t <= 3), every
    other score pattern gives less (the weight increases in
    its own score and decreases in the others'), the bound tends to 0 as t grows, and the row
    threshold t >= 1 + e^{2 xi}(1 - eps)/eps solves bound = eps."""
    e = sp.symbols("epsilon", positive=True)
    worst = sp.exp(xi) / (sp.exp(xi) + (t - 1) * sp.exp(-xi))
    a, b = sp.symbols("a b", real=True)  # own score, another key's score
    other = sp.symbols("R", positive=True)  # the rest of the row's exponentials
    w = sp.exp(a) / (sp.exp(a) + sp.exp(b) + other)
    monotone = sp.simplify(sp.diff(w, a) - w * (1 - w)) == 0 and sp.simplify(sp.diff(w, b) + w * sp.exp(b) / (
        sp.exp(a) + sp.exp(b) + other)) == 0
    solved = sp.solve(sp.Eq(bound, e), t)
    return {"extreme_row_gives_bound": sp.simplify(worst - bound) == 0,
            "weight_monotone_in_scores": bool(monotone),
            "tends_to_zero": sp.limit(bound, t, sp.oo) == 0,
            "row_threshold": len(solved) == 1 and sp.simplify(solved[0] - (1 + sp.exp(2 * xi) * (1 - e) / e)) == 0}


def check_alpha1_sum(bound=ROPE_BOUND, upto: int = 6) -> bool:
    """sum_{t=1}^T bound(t) = c (psi(c + T) - psi(c)), c = e^{2 xi}, for T = 1..upto, exactly
    (the closed form behind :func:`rope_alpha1_bound`)."""
    closed = lambda n: c * (sp.polygamma(0, c + n) - sp.polygamma(0, c))  # noqa: E731
    term = bound.subs(sp.exp(2 * xi), c)
    return all(sp.simplify(sp.expand_func(closed(n)) - sum(term.subs(t, k) for k in range(1, n + 1))) == 0
               for n in range(1, upto + 1))


def symbolic_steps() -> dict[str, bool]:
    """Every symbolic step of Props. 1-4, by name."""
    return {"prop1_uniform": check_prop1_algebra(), "prop2_3_bias_only": check_bias_only_algebra(),
            **{f"prop4_{k}": v for k, v in check_prop4_algebra().items()}, "prop4_alpha1_sum": check_alpha1_sum()}
