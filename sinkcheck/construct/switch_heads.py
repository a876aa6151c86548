"""Heads for the switch theorems of :mod:`sinkcheck.theory.switch`: evaluation over contents,
the tight constructions and the cancellation counterexamples.

A head is (Z, W, V): tokens as the rows of Z (position 0 the sink), W = W_QK, V = W_OV; the query
is row ``i`` under a causal mask (it sees positions 0..i, itself included).  Positions listed in
``free`` carry the content; every other visible position is fixed (the set P of the theorems).

Coordinates of the constructed heads, d = 3 + p: [sink flag, query flag, key coordinate t,
content (p)].  W = sqrt(d) e_q (alpha e_s + beta e_t)^T, so the query x = e_q + ... scores a token
z by alpha z_s + beta z_t, and V reads the content block only.
"""

from __future__ import annotations

import itertools

import numpy as np

from sinkcheck import validate
from sinkcheck.core.attention import causal_mask, head_output, scores, softmax_attention


def evaluate_head(Z: np.ndarray, W: np.ndarray, V: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Causal softmax head at query i: (weights a over positions 0..i, values V z_j (i+1, p), o_i)."""
    Z = validate.finite_array("Z", Z, ndim=2)
    i = validate.integer_at_least("i", i, 0)
    if i >= Z.shape[0]:
        raise validate.InvalidInputError(f"i: must be < number of tokens {Z.shape[0]} (got {i})")
    Zv = Z[: i + 1]
    A = softmax_attention(scores(Zv, Zv, W), causal_mask(i + 1))[-1]
    return A, Zv @ validate.finite_array("V", V, ndim=2).T, head_output(A[None, :], Zv, V)[0]


def over_contents(Z: np.ndarray, W: np.ndarray, V: np.ndarray, i: int, free: list[int],
                  contents: np.ndarray, limit: int = 4096) -> dict:
    """Place every configuration in contents^free at the free positions and evaluate the head.

    Args:
        Z: base tokens (T+1, d); the rows in ``free`` are overwritten.  W, V: the head.  i: query.
        free: free positions (subset of 1..i, not i itself: the query's token stays fixed).
        contents: candidate tokens, shape (m, d).  limit: at most this many configurations.
    Returns:
        dict with ``eps`` = max ||o_i|| over configurations, ``deficits`` = 1 - a_P per configuration
        (a_P = mass on the fixed positions), ``configs`` (tuples of content indices), ``outputs``.
    Raises:
        InvalidInputError: for bad shapes, free positions out of range (or containing 0 or i), or
            too many configurations.
    """
    Z = validate.finite_array("Z", Z, ndim=2)
    contents = validate.finite_array("contents", contents, ndim=2, shape=(None, Z.shape[1]))
    if not free or len(set(free)) != len(free) or any(not 1 <= j < i for j in free):
        raise validate.InvalidInputError(f"free: must be distinct positions in [1, {i}) (got {free!r})")
    n_cfg = contents.shape[0] ** len(free)
    if n_cfg > limit:
        raise validate.InvalidInputError(f"contents: at most {limit} configurations (got {n_cfg})")
    fixed = [j for j in range(i + 1) if j not in free]
    eps, deficits, configs, outputs = 0.0, [], [], []
    for cfg in itertools.product(range(contents.shape[0]), repeat=len(free)):
        Zc = Z.copy()
        Zc[free] = contents[list(cfg)]
        a, _, o = evaluate_head(Zc, W, V, i)
        eps = max(eps, float(np.linalg.norm(o)))
        deficits.append(1.0 - float(a[fixed].sum()))
        configs.append(cfg)
        outputs.append(o)
    return {"eps": eps, "deficits": np.array(deficits), "configs": configs, "outputs": np.array(outputs)}


def _frame(p: int) -> tuple[int, np.ndarray]:
    d = 3 + p
    return d, np.hstack([np.zeros((p, 3)), np.eye(p)])  # V reads the content block


def _W(d: int, alpha: float, beta: float, gamma: float = 0.0) -> np.ndarray:
    W = np.zeros((d, d))
    W[1, 0], W[1, 2], W[1, 1] = alpha, beta, gamma
    return np.sqrt(d) * W  # s(x, z) = alpha z_s + beta z_t + gamma z_q for a query with x_q = 1


def tight_values_head(eps: float, R: float, n: int, p: int = 2) -> dict:
    """Theorem S2 is tight: a head with V z_0 = 0 and a_P = 1 - eps/R whose worst output over the
    content ball B(0, R) is exactly eps.

    Margin walk-through: the fixed positions are the sink (score alpha) and the query's own token
    (score 0), both with value 0; the n free tokens have key coordinate 0 (score 0), so
    a_F = n / (e^alpha + 1 + n).  Setting e^alpha = n (R - eps)/eps - 1 gives a_F = eps/R, and the
    worst content (all values R u) gives ||o|| = a_F R = eps.

    Args:
        eps: tolerance, 0 < eps < R with n (R - eps) > eps.  R: content norm.  n: free tokens.
        p: value dimension.
    Returns:
        dict with Z (n+2, d) (free rows 1..n zero, query last), W, V, i = n+1, free = [1..n],
        the worst contents ``contents`` (±R e_1 in the content block), a_P.
    Raises:
        InvalidInputError: eps, R, n out of range.
    """
    R, eps = validate.positive("R", R), validate.positive("eps", eps)
    n, p = validate.integer_at_least("n", n, 1), validate.integer_at_least("p", p, 1)
    if n * (R - eps) <= eps:
        raise validate.InvalidInputError(f"eps: must satisfy n (R - eps) > eps (got eps={eps}, R={R}, n={n})")
    d, V = _frame(p)
    alpha = float(np.log(n * (R - eps) / eps - 1.0))
    Z = np.zeros((n + 2, d))
    Z[0, 0] = 1.0  # sink: flag only, value 0
    Z[-1, 1] = 1.0  # query: flag only, value 0
    contents = np.zeros((2, d))
    contents[0, 3], contents[1, 3] = R, -R
    return {"Z": Z, "W": _W(d, alpha, 0.0), "V": V, "i": n + 1, "free": list(range(1, n + 1)),
            "contents": contents, "a_P": 1.0 - eps / R}


def tight_tokens_head(eps: float, eps_prime: float, R: float, n: int, p: int = 2) -> dict:
    """Theorem S3 is tight: with keys moving with content, the deficit ``1 - a_P`` equals
    (eps + eps')/(R + eps') > eps/R while every configuration of the content set
    ``C = {z_+, z_-}`` has output norm at most eps.

    Margin walk-through: sink and query both carry the value ``-eps' u`` (so the averaged fixed
    value is ``-eps' u`` whatever the weights), with scores 0 (so S_P = 2).  The tokens ``z_+`` and
    ``z_-`` have values ``+R u`` and ``-R u`` and key coordinates chosen so that the homogeneous
    configurations have free mass ``b_+ = (eps + eps')/(R + eps')`` (then ``<u, o_+> =
    -(1 - b_+) eps' + b_+ R = eps``) and ``b_- = (eps - eps')/(2 (R - eps'))`` (then the
    all-minus output is below eps).  Mixed configurations have less plus-mass and less
    minus-mass, so their outputs stay inside [-eps, eps] u.

    Args:
        eps: tolerance.  eps_prime: the norm of V z_0, 0 <= eps' < eps < R.  R: content norm.  n: free tokens.
    Returns:
        dict like :func:`tight_values_head` with ``b_plus`` the deficit of the all-z_+ configuration.
    Raises:
        InvalidInputError: parameters out of range.
    """
    R, eps = validate.positive("R", R), validate.positive("eps", eps)
    eps_prime = validate.nonnegative("eps_prime", eps_prime)
    n, p = validate.integer_at_least("n", n, 1), validate.integer_at_least("p", p, 1)
    if not eps_prime < eps < R:
        raise validate.InvalidInputError(f"eps: must satisfy eps_prime < eps < R (got {eps_prime}, {eps}, {R})")
    d, V = _frame(p)
    b_plus = (eps + eps_prime) / (R + eps_prime)
    b_minus = (eps - eps_prime) / (2.0 * (R - eps_prime))
    S_P = 2.0  # e^0 (sink) + e^0 (query self-key)
    t = [float(np.log(b * S_P / (n * (1.0 - b)))) for b in (b_plus, b_minus)]
    Z = np.zeros((n + 2, d))
    Z[0, 0], Z[0, 3] = 1.0, -eps_prime
    Z[-1, 1], Z[-1, 3] = 1.0, -eps_prime
    contents = np.zeros((2, d))
    contents[0, 2], contents[0, 3] = t[0], R
    contents[1, 2], contents[1, 3] = t[1], -R
    return {"Z": Z, "W": _W(d, 0.0, 1.0), "V": V, "i": n + 1, "free": list(range(1, n + 1)),
            "contents": contents, "b_plus": b_plus}


def cancellation_head(R: float = 1.0, sink_logit: float = -10.0, p: int = 2) -> dict:
    """Counterexample (i): two free tokens with equal scores and values ±R u give o = 0 exactly,
    with almost no mass on the zero-value positions (sink and query self-key score ``sink_logit``).  Changing the content to (+, +)
    gives a large output: only "for every content" forces a sink."""
    R = validate.positive("R", R)
    d, V = _frame(p)
    Z = np.zeros((4, d))
    Z[0, 0] = 1.0
    Z[1, 3], Z[2, 3] = R, -R
    Z[3, 1] = 1.0
    return {"Z": Z, "W": _W(d, float(sink_logit), 0.0, float(sink_logit)), "V": V, "i": 3, "free": [1, 2]}


def sink_cancellation_head(c: float = 2.0, R: float = 1.0, p: int = 2) -> dict:
    """Counterexample (ii): V z_0 = -c R u and one content R u with a_1 = c a_0 (score log c) cancel:
    o = 0 although V z_0 != 0 (the query's own value is 0)."""
    c, R = validate.positive("c", c), validate.positive("R", R)
    d, V = _frame(p)
    Z = np.zeros((3, d))
    Z[0, 0], Z[0, 3] = 1.0, -c * R
    Z[1, 2], Z[1, 3] = 1.0, R
    Z[2, 1] = 1.0
    return {"Z": Z, "W": _W(d, 0.0, float(np.log(c))), "V": V, "i": 2, "free": [1]}


# ---- sampled heads of the converse theorems (S2, S3), shared by the report check and the tests
def sample_content_head(rng: np.random.Generator, keys_move: bool) -> dict:
    """A causal head over tokens (key part in R^3, content in R^p), query last, sink boosted.

    keys_move=False zeroes the content columns of W (values vary, scores fixed: Theorem S2).
    """
    p, n = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    d = 3 + p
    Z = rng.uniform(-2, 2, (n + 2, d))
    Z[1:-1] = 0.0
    scale = float(rng.choice([0.0, 0.01, 0.1, 1.0]))
    Z[[0, -1], 3:] *= scale
    W = rng.uniform(-2, 2, (d, d))
    W += rng.uniform(0, 12) * np.sqrt(d) * np.outer(Z[-1], Z[0]) / ((Z[-1] @ Z[-1]) * (Z[0] @ Z[0]))
    if not keys_move:
        W[:, 3:] = 0.0
    V = np.hstack([np.zeros((p, 3)), np.eye(p)])
    return {"Z": Z, "W": W, "V": V, "i": n + 1, "free": list(range(1, n + 1)), "p": p, "d": d}


def pm_contents(h: dict, R: float, keys: np.ndarray | None = None) -> np.ndarray:
    """The two contents z_± with V z_± = ±R e_1 (and key parts ``keys`` if given)."""
    c = np.zeros((2, h["d"]))
    if keys is not None:
        c[:, :3] = keys
    c[0, 3], c[1, 3] = R, -R
    return c


def sink_alone_configs(h: dict, R: float, keys: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """S3 with P = {0} (docs/switch.md, "the sink alone"): the head's (weights, values, output) when
    every visible token but the sink, the query's own included, is ``z_+`` (key part ``keys[0]``,
    value R e_1), resp. ``z_-`` (``keys[1]``, value -R e_1); V reads the content block."""
    i = h["i"]
    V = np.hstack([np.zeros((h["p"], 3)), np.eye(h["p"])])
    out = []
    for sign, key in ((1.0, keys[0]), (-1.0, keys[1])):
        Z = h["Z"].copy()
        Z[1:i + 1] = 0.0
        Z[1:i + 1, :3], Z[1:i + 1, 3] = key, sign * R
        out.append(evaluate_head(Z, h["W"], V, i))
    return out
