"""Numerical instances of the smoothing model (docs/smoothing.md; :mod:`sinkcheck.theory.smoothing`).

A :class:`SmoothingModel` holds B, W, beta, Sigma_x, the means and k.  Three independent ways to get
the moments of Y_i(lam) = x_i + W sum_j a_ij(lam) z_j:

- :func:`closed_form`: the theorem's formulas (:mod:`sinkcheck.theory.smoothing`);
- :func:`exact_moments`: an exact expectation over a discrete distribution with the same means and
  covariances (2n equally likely atoms mu +- sqrt(n) F e_j, where F F^T is the joint covariance);
- :func:`monte_carlo_D`: a seeded Gaussian Monte Carlo estimate with a Chebyshev interval built from
  the exact variance of a Gaussian quadratic form, Var(v^T M v) = 2 tr((M S)^2) + 4 mu^T M S M mu.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import smoothing as th


def psd_matrix(name: str, M, d: int | None = None) -> np.ndarray:
    """``M`` as a symmetric PSD float64 (d, d) array (tolerance 1e-10 relative), else InvalidInputError."""
    M = validate.finite_array(name, M, ndim=2, shape=(d, d) if d else None)
    if M.shape[0] != M.shape[1]:
        raise InvalidInputError(f"{name}: must be square (got shape {M.shape})")
    scale = max(1.0, float(np.abs(M).max()))
    if np.abs(M - M.T).max() > 1e-10 * scale:
        raise InvalidInputError(f"{name}: must be symmetric (got asymmetry {np.abs(M - M.T).max():.3g})")
    low = float(np.linalg.eigvalsh((M + M.T) / 2).min())
    if low < -1e-10 * scale:
        raise InvalidInputError(f"{name}: must be positive semidefinite (got smallest eigenvalue {low:.3g})")
    return (M + M.T) / 2


@dataclass(frozen=True)
class SmoothingModel:
    """Cov(z) = B, Cov(x, z) = beta B, Cov(x) = Sigma_x, means mu_x, mu_z, value-output W, k tokens."""

    B: np.ndarray
    W: np.ndarray
    beta: float
    Sigma_x: np.ndarray
    mu_x: np.ndarray
    mu_z: np.ndarray
    k: int

    @property
    def p(self) -> float:
        """beta tr(BW)."""
        return float(self.beta * np.trace(self.B @ self.W))

    @property
    def q(self) -> float:
        """tr(B W^T W) >= 0."""
        return float(np.trace(self.B @ self.W.T @ self.W))

    @property
    def trSx(self) -> float:
        return float(np.trace(self.Sigma_x))

    @property
    def mm(self) -> float:
        """||mu_x + W mu_z||^2, the squared norm of E Y_i."""
        m = self.mu_x + self.W @ self.mu_z
        return float(m @ m)

    def joint_covariance(self) -> np.ndarray:
        """The (2d, 2d) covariance of (x_l, z_l)."""
        return np.block([[self.Sigma_x, self.beta * self.B], [self.beta * self.B, self.B]])


def make_model(B, W, beta, Sigma_x, k, mu_x=None, mu_z=None) -> SmoothingModel:
    """Validate and build a model.  The joint covariance is PSD iff B and Sigma_x - beta^2 B are PSD.

    Raises:
        InvalidInputError: non-PSD B, Sigma_x - beta^2 B not PSD, non-finite or mis-shaped arrays, k < 2.
    """
    B = psd_matrix("B", B)
    d = B.shape[0]
    W = validate.finite_array("W", W, ndim=2, shape=(d, d))
    beta = float(validate.finite_array("beta", beta, ndim=0))
    Sigma_x = psd_matrix("Sigma_x", Sigma_x, d)
    psd_matrix("Sigma_x - beta^2 B (joint covariance of (x, z))", Sigma_x - beta**2 * B, d)
    k = validate.integer_at_least("k", k, 2)
    mu_x = np.zeros(d) if mu_x is None else validate.finite_array("mu_x", mu_x, ndim=1, shape=(d,))
    mu_z = np.zeros(d) if mu_z is None else validate.finite_array("mu_z", mu_z, ndim=1, shape=(d,))
    return SmoothingModel(B, W, beta, Sigma_x, mu_x, mu_z, k)


def sample_model(rng: np.random.Generator, d: int, k: int, mean_scale: float = 1.0,
                 rank: int | None = None, W_scale: float = 1.0) -> SmoothingModel:
    """A random valid model: B = G G^T of the given rank, Sigma_x = beta^2 B + P P^T (so the joint
    covariance is PSD by the Schur complement), W with entries of size W_scale / sqrt(d)."""
    d = validate.integer_at_least("d", d, 1)
    k = validate.integer_at_least("k", k, 2)
    rank = d if rank is None else validate.integer_at_least("rank", rank, 0)
    if rank > d:
        raise InvalidInputError(f"rank: must lie in [0, {d}] (got {rank!r})")
    mean_scale = validate.nonnegative("mean_scale", mean_scale)
    W_scale = validate.nonnegative("W_scale", W_scale)
    G = rng.standard_normal((d, rank))
    B = G @ G.T / max(rank, 1)
    beta = float(rng.normal(0.0, 1.0))
    P = rng.standard_normal((d, d)) * rng.uniform(0.2, 1.0)
    Sigma_x = beta**2 * B + P @ P.T
    W = rng.standard_normal((d, d)) * W_scale / math.sqrt(d)
    mu_x, mu_z = rng.standard_normal(d) * mean_scale, rng.standard_normal(d) * mean_scale
    return make_model(B, W, beta, Sigma_x, k, mu_x, mu_z)


def path_attention(k: int, lam: float) -> np.ndarray:
    """(1 - lam) I + (lam / k) 1 1^T: lam = 0 sparse (each token on itself), lam = 1 uniform."""
    k = validate.integer_at_least("k", k, 2)
    lam = validate.in_interval("lam", lam, 0.0, 1.0)
    return (1 - lam) * np.eye(k) + lam / k * np.ones((k, k))


def closed_form(model: SmoothingModel, lam: float) -> dict:
    """D_k, N = E[Y_i^T Y_j], Den = E||Y_i||^2, S = E||Ybar||^2 and R = N / Den from the theorem
    (R is nan when Den = 0, i.e. Y_i = 0 almost surely)."""
    lam = validate.in_interval("lam", lam, 0.0, 1.0)
    a = (model.k, lam, model.p, model.q)
    Den = th.Den_closed(*a, model.trSx, model.mm)
    return {
        "D": th.D_closed(*a, model.trSx), "N": th.N_closed(*a, model.mm), "Den": Den,
        "S": th.S_closed(model.k, model.p, model.q, model.trSx, model.mm),
        "R": th.R_closed(*a, model.trSx, model.mm) if Den > 0 else float("nan"),  # Y = 0 a.s.: no cosine
    }


def outputs(model: SmoothingModel, X: np.ndarray, Z: np.ndarray, lam: float) -> np.ndarray:
    """Y = X + A(lam) Z W^T for token arrays X, Z of shape (..., k, d)."""
    return X + path_attention(model.k, lam) @ Z @ model.W.T


def _atoms(model: SmoothingModel) -> tuple[np.ndarray, np.ndarray]:
    """The 2n atoms (X, Z), each (k, d), of the discrete distribution with the model's moments."""
    d, k = model.B.shape[0], model.k
    evals, U = np.linalg.eigh(model.joint_covariance())
    F_tok = U * np.sqrt(np.clip(evals, 0.0, None))  # F_tok F_tok^T = joint covariance of one token
    n = 2 * d * k
    F = np.kron(np.eye(k), F_tok)  # tokens uncorrelated
    mu = np.tile(np.concatenate([model.mu_x, model.mu_z]), k)
    E = math.sqrt(n) * np.concatenate([np.eye(n), -np.eye(n)])  # rows: the 2n atoms of eps
    V = (mu + E @ F.T).reshape(2 * n, k, 2 * d)
    return V[..., :d], V[..., d:]


def exact_moments(model: SmoothingModel, lam: float) -> dict:
    """D (token 0), N (tokens 0, 1), Den (token 0) as exact averages over the discrete distribution."""
    return exact_moments_path(model, [lam])[0]


def exact_moments_path(model: SmoothingModel, lams) -> list[dict]:
    """:func:`exact_moments` at each lam of ``lams`` (the atoms are built once)."""
    lams = [validate.in_interval("lam", lam, 0.0, 1.0) for lam in lams]
    if not lams:
        raise InvalidInputError("lams: must not be empty (got no lam)")
    X, Z = _atoms(model)
    out = []
    for lam in lams:
        Y = outputs(model, X, Z, lam)
        C = Y - Y.mean(axis=1, keepdims=True)
        out.append({
            "D": float(np.mean(np.sum(C[:, 0] ** 2, axis=-1))),
            "N": float(np.mean(np.sum(Y[:, 0] * Y[:, 1], axis=-1))),
            "Den": float(np.mean(np.sum(Y[:, 0] ** 2, axis=-1))),
        })
    return out


def sample_tokens(model: SmoothingModel, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n Gaussian sequences: X, Z of shape (n, k, d), tokens independent, with the model's moments."""
    n = validate.integer_at_least("n", n, 1)
    d = model.B.shape[0]
    evals, U = np.linalg.eigh(model.joint_covariance())
    F = U * np.sqrt(np.clip(evals, 0.0, None))
    V = rng.standard_normal((n, model.k, 2 * d)) @ F.T + np.concatenate([model.mu_x, model.mu_z])
    return V[..., :d], V[..., d:]


@dataclass(frozen=True)
class MonteCarlo:
    """A Monte Carlo estimate of D_k(lam) and its interval estimate +- z sd / sqrt(n)."""

    estimate: float
    half_width: float
    exact_sd: float
    sample_sd: float
    n: int
    z: float
    chebyshev_failure: float
    normal_failure: float

    def contains(self, value: float) -> bool:
        return abs(value - self.estimate) <= self.half_width


def _statistic_matrix(model: SmoothingModel, lam: float) -> np.ndarray:
    """M with (1/k) sum_i ||Y_i - Ybar||^2 = v^T M v for the stacked v = (x_1, z_1, ..., x_k, z_k)."""
    d, k = model.B.shape[0], model.k
    n = 2 * d * k
    basis = np.eye(n).reshape(n, k, 2 * d)
    Y = outputs(model, basis[..., :d], basis[..., d:], lam)
    L = (Y - Y.mean(axis=1, keepdims=True)).reshape(n, k * d).T  # columns: images of basis vectors
    return L.T @ L / k


def monte_carlo_D(model: SmoothingModel, lam: float, n: int, seed: int, z: float = 10.0) -> MonteCarlo:
    """Seeded Gaussian Monte Carlo of D_k(lam) = E (1/k) sum_i ||Y_i - Ybar||^2.

    The interval estimate +- z sd / sqrt(n) uses the exact sd of the statistic (Gaussian quadratic
    form), so by Chebyshev it misses D_k(lam) with probability <= 1 / z^2 (1% for z = 10); the normal
    approximation gives 2 (1 - Phi(z)).
    """
    lam = validate.in_interval("lam", lam, 0.0, 1.0)
    n = validate.integer_at_least("n", n, 2)
    z = validate.positive("z", z)
    seed = validate.integer_at_least("seed", seed, 0)
    X, Z = sample_tokens(model, np.random.default_rng(seed), n)
    Y = outputs(model, X, Z, lam)
    stat = np.mean(np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2, axis=-1), axis=1)
    M = _statistic_matrix(model, lam)
    Sigma = np.kron(np.eye(model.k), model.joint_covariance())
    mu = np.tile(np.concatenate([model.mu_x, model.mu_z]), model.k)
    MS = M @ Sigma
    var = 2 * np.trace(MS @ MS) + 4 * mu @ M @ Sigma @ M @ mu
    sd = math.sqrt(max(float(var), 0.0))
    return MonteCarlo(float(stat.mean()), z * sd / math.sqrt(n), sd, float(stat.std(ddof=1)), n, z,
                      min(1.0, 1 / z**2), math.erfc(z / math.sqrt(2)))
