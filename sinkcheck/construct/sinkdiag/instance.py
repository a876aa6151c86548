"""Instances of the sink-vs-diagonal setting (Súkeník et al., Section 7; docs/sink_vs_diagonal.md).

An instance holds the embeddings the margin constraints are written in:

- ``b`` (d,): the BOS / sink token, ``sqrt(d) U e_0``;
- ``dbar`` (C, d): group directions ``sqrt(d) U e_c``;
- ``c`` (C, d): copy-paste queries ``sqrt(d) U e_{C+c}``;
- ``d`` (N, d): dormant tokens ``lam * dbar[group] + eta`` (the paper's d_i; the dimension d is the property ``dim``);
- ``group`` (N,): the group (0-based) of each dormant token;
- ``eta`` (N, d): nuisance vectors, orthogonal to S = span(b, dbar, c);
- scalars ``lam`` and ``kappa``.

The derived quantities of the bounds (r_eta, delta, Delta_diag, Sigma_D, r_eff) are properties.
:func:`sample_instance` draws a seeded instance; :meth:`SinkDiagInstance.save` / :func:`load_instance`
write and read ``.npz`` files with exactly these named arrays, so anyone can re-solve them.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from sinkcheck import validate
from sinkcheck.core import npz
from sinkcheck.core.limits import check_memory
from sinkcheck.construct.sinkdiag import params
from sinkcheck.construct.sinkdiag.params import check_arguments, memory_bytes
from sinkcheck.errors import InvalidInputError

ARRAYS = ("b", "dbar", "c", "d", "group", "eta", "lam", "kappa")
"""Named arrays of an instance file (``lam`` and ``kappa`` are 0-d)."""

RANK_RTOL = 1e-9
"""Relative singular-value cut-off for numerical ranks (r_eta, the span of the embeddings)."""

CONSISTENCY_ATOL = 1e-8
"""Relative tolerance of the structural checks (orthogonality, d = lam dbar + eta, norms)."""

@dataclass(frozen=True, eq=False)
class SinkDiagInstance:
    """One instance of the Section 7 setting; validated on construction (see module docstring)."""

    b: np.ndarray
    dbar: np.ndarray
    c: np.ndarray
    d: np.ndarray
    group: np.ndarray
    eta: np.ndarray
    lam: float
    kappa: float

    def __post_init__(self) -> None:
        b = validate.finite_array("b", self.b, ndim=1)
        dim = b.shape[0]
        dbar = validate.finite_array("dbar", self.dbar, ndim=2)
        C = dbar.shape[0]
        if dbar.shape[1] != dim:
            raise InvalidInputError(f"dbar: must have shape (C, {dim}) (got shape {dbar.shape})")
        c = validate.finite_array("c", self.c, shape=(C, dim))
        d = validate.finite_array("d", self.d, ndim=2)
        N = d.shape[0]
        if d.shape[1] != dim:
            raise InvalidInputError(f"d: must have shape (N, {dim}) (got shape {d.shape})")
        eta = validate.finite_array("eta", self.eta, shape=(N, dim))
        group = np.asarray(self.group)
        if group.shape != (N,) or not np.issubdtype(group.dtype, np.integer):
            raise InvalidInputError(f"group: must be an integer array of shape ({N},) (got {group.dtype} {group.shape})")
        if group.min() < 0 or group.max() >= C:
            raise InvalidInputError(f"group: entries must lie in 0..{C - 1} (got {group.min()}..{group.max()})")
        counts = np.bincount(group, minlength=C)
        if counts.min() < 2:
            raise InvalidInputError(f"group: every group needs n_c >= 2 tokens (got counts {counts.tolist()})")
        lam = params.scale("lam", self.lam)
        kappa = params.scale("kappa", self.kappa)
        # structure: S has the orthogonal basis b, dbar_c, c_c of norm sqrt(d); eta is orthogonal to S
        S = np.vstack([b[None], dbar, c]) / np.sqrt(dim)
        scale = max(1.0, float(np.abs(eta).max()), lam)
        if not np.allclose(S @ S.T, np.eye(2 * C + 1), rtol=0.0, atol=CONSISTENCY_ATOL):
            raise InvalidInputError("b, dbar, c: must be orthogonal with norm sqrt(d) (U has orthonormal columns)")
        if np.abs(eta @ S.T).max() > CONSISTENCY_ATOL * scale:
            raise InvalidInputError("eta: must be orthogonal to S = span(b, dbar, c)")
        if np.abs(d - (lam * dbar[group] + eta)).max() > CONSISTENCY_ATOL * scale * np.sqrt(dim):
            raise InvalidInputError("d: must equal lam * dbar[group] + eta")
        for name, val in (("b", b), ("dbar", dbar), ("c", c), ("d", d), ("eta", eta)):
            object.__setattr__(self, name, val)
        object.__setattr__(self, "group", group.astype(np.int64))
        object.__setattr__(self, "lam", lam)
        object.__setattr__(self, "kappa", kappa)

    # ---- sizes -------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """The ambient dimension d."""
        return int(self.b.shape[0])

    @property
    def C(self) -> int:
        """The number of groups C."""
        return int(self.dbar.shape[0])

    @property
    def N(self) -> int:
        """The number of dormant tokens, sum of n_c."""
        return int(self.d.shape[0])

    @property
    def n(self) -> np.ndarray:
        """Group sizes n_c."""
        return np.bincount(self.group, minlength=self.C)

    @property
    def U(self) -> np.ndarray:
        """The (d, 2C+1) orthonormal basis (e_0 -> b, e_c -> dbar_c, e_{C+c} -> c_c)."""
        return np.vstack([self.b[None], self.dbar, self.c]).T / np.sqrt(self.dim)

    # ---- quantities of the bounds ------------------------------------------------------------
    @cached_property
    def r_eta(self) -> int:
        """Dimension of the nuisance span N (numerical rank, relative cut-off RANK_RTOL)."""
        s = np.linalg.svd(self.eta, compute_uv=False)
        return int(np.sum(s > RANK_RTOL * max(s[0], 1e-300))) if s[0] > 0 else 0

    @cached_property
    def P_eta(self) -> np.ndarray:
        """Orthogonal projector onto the nuisance span."""
        if self.r_eta == 0:
            return np.zeros((self.dim, self.dim))
        _, _, Vt = np.linalg.svd(self.eta, full_matrices=False)
        B = Vt[: self.r_eta].T
        return B @ B.T

    @property
    def delta(self) -> float:
        """delta = max ||eta_ci||."""
        return float(np.linalg.norm(self.eta, axis=1).max())

    def _pairs(self) -> list[tuple[int, int]]:
        idx = [np.flatnonzero(self.group == g) for g in range(self.C)]
        return [(int(i), int(j)) for members in idx for a, i in enumerate(members) for j in members[a + 1:]]

    @property
    def Delta_diag(self) -> float:
        """min over groups and ordered i != j of 2 (||eta_ci||^2 - eta_ci^T eta_cj)."""
        E = self.eta
        vals = [2 * (E[i] @ E[i] - E[i] @ E[j]) for p in self._pairs() for i, j in (p, p[::-1])]
        return float(min(vals))

    @property
    def cross_gap(self) -> float:
        """min over tokens of different groups of ||eta_ci||^2 - eta_ci^T eta_c'j (>= 0 under H2)."""
        E, g = self.eta, self.group
        G = E @ E.T
        diff = g[:, None] != g[None, :]
        return float((np.diag(G)[:, None] - G)[diff].min())

    @property
    def Sigma_D(self) -> np.ndarray:
        """Average of D_p D_p^T over within-group pairs, D_p = eta_ci - eta_cj."""
        D = np.array([self.eta[i] - self.eta[j] for i, j in self._pairs()])
        return D.T @ D / len(D)

    @property
    def r_eff(self) -> float:
        """r_eff(Sigma_D) = tr(Sigma_D) / ||Sigma_D||_op (0 when Sigma_D = 0).

        Sigma_D = D^T D / P has the nonzero eigenvalues of the P x P Gram matrix D D^T / P (P the
        number of within-group pairs), so no d x d matrix is formed: the cost is linear in d."""
        D = np.array([self.eta[i] - self.eta[j] for i, j in self._pairs()])
        ev = np.linalg.eigvalsh(D @ D.T)
        return float(ev.sum() / ev[-1]) if ev[-1] > 0 else 0.0

    @property
    def eta_bar(self) -> np.ndarray:
        """(C, d) group means of the nuisance (zero under H1)."""
        return np.array([self.eta[self.group == g].mean(axis=0) for g in range(self.C)])

    @property
    def is_centred(self) -> bool:
        """Whether H1 holds, i.e. sum_i eta_ci = 0 in every group (up to CONSISTENCY_ATOL)."""
        return bool(np.abs(self.eta_bar).max() <= CONSISTENCY_ATOL * max(1.0, self.delta))

    @property
    def has_equal_norms(self) -> bool:
        """Whether H2 holds, i.e. all ||eta_ci|| are equal (up to CONSISTENCY_ATOL)."""
        norms = np.linalg.norm(self.eta, axis=1)
        return bool(norms.max() - norms.min() <= CONSISTENCY_ATOL * max(1.0, norms.max()))

    def tokens(self) -> np.ndarray:
        """All tokens, rows: b, c_1..c_C, d_1..d_N (the embeddings the constraints use)."""
        return np.vstack([self.b[None], self.c, self.d])

    def parameters(self) -> dict:
        """A JSON-ready summary of the instance (sizes and derived quantities)."""
        return {"d": self.dim, "C": self.C, "n": self.n.tolist(), "lam": self.lam, "kappa": self.kappa,
                "r_eta": self.r_eta, "delta": self.delta, "Delta_diag": self.Delta_diag,
                "r_eff": self.r_eff, "H1_centred": self.is_centred, "H2_equal_norms": self.has_equal_norms}

    # ---- files -------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the instance as ``.npz`` with the named arrays of :data:`ARRAYS` to ``path`` (a
        file name, or a binary file object)."""
        arrays = dict(b=self.b, dbar=self.dbar, c=self.c, d=self.d, group=self.group, eta=self.eta,
                      lam=np.float64(self.lam), kappa=np.float64(self.kappa))
        if hasattr(path, "write"):
            np.savez(path, **arrays)
            return
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)


def load_instance(path: str | Path) -> SinkDiagInstance:
    """Read an instance written by :meth:`SinkDiagInstance.save` (validated).

    Raises:
        InvalidInputError: unreadable, truncated or corrupted file, missing array, or arrays that
            do not form a valid instance.
    """
    name = Path(path).name
    if Path(path).suffix != ".npz":
        raise InvalidInputError(f"instance: must be an .npz file written by --save-instance (got {name!r})")
    heads = npz.headers(path, "instance")
    missing = [k for k in ARRAYS if k not in heads]
    if missing:
        raise InvalidInputError(f"instance: file {name} lacks arrays {missing}")
    for k in ("lam", "kappa"):
        if heads[k].shape != ():
            raise InvalidInputError(f"{k}: must be a scalar (got shape {heads[k].shape})")
    for k in ARRAYS:
        if heads[k].dtype.kind not in ("iu" if k == "group" else "iuf"):
            raise InvalidInputError(f"{k}: must hold real numbers (got dtype {heads[k].dtype})")
    shapes = {k: heads[k].shape for k in ("b", "dbar", "d")}
    if [len(v) for v in shapes.values()] != [1, 2, 2]:
        raise InvalidInputError(f"instance: b, dbar, d must have 1, 2, 2 axes (got shapes {list(shapes.values())})")
    d, C, N = shapes["b"][0], shapes["dbar"][0], shapes["d"][0]
    need = memory_bytes(d, max(C, 1), max(N // max(C, 1), 2), min(N, d), evaluation=False)
    check_memory("instance", need + 8.0 * sum(h.nbytes for h in heads.values()),
                 f"the instance in {name} (d = {d}, C = {C}, N = {N})")
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ARRAYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"instance: cannot read {name} as .npz ({type(exc).__name__})") from None
    return SinkDiagInstance(arrays["b"], arrays["dbar"], arrays["c"], arrays["d"], arrays["group"],
                            arrays["eta"], float(arrays["lam"]), float(arrays["kappa"]))


def _nuisance(rng: np.random.Generator, B: np.ndarray, spec: np.ndarray, n_c: int, centred: bool,
              equal_norms: bool) -> np.ndarray:
    """(n_c, d) nuisance vectors of one group in span(B), before the common rescaling."""
    raw = lambda k: (rng.standard_normal((k, B.shape[1])) * np.sqrt(spec)) @ B.T  # noqa: E731
    if centred and equal_norms:
        # exact H1 + H2: pairs (v, -v), plus one 120-degree triple (u, w rotated) when n_c is odd
        rows = []
        if n_c % 2:
            u, w = raw(2)
            u /= np.linalg.norm(u)
            w -= (w @ u) * u
            w /= np.linalg.norm(w)
            rows += [np.cos(t) * u + np.sin(t) * w for t in (0.0, 2 * np.pi / 3, 4 * np.pi / 3)]
        for v in raw((n_c - len(rows)) // 2):
            v = v / np.linalg.norm(v)
            rows += [v, -v]
        return np.array(rows)
    E = raw(n_c)
    if centred:
        E = E - E.mean(axis=0)
    if equal_norms:
        E = E / np.linalg.norm(E, axis=1, keepdims=True)
    elif not centred:  # spread the norms (centring alone already leaves them unequal)
        E = E * rng.uniform(0.25, 1.0, size=(n_c, 1)) / np.linalg.norm(E, axis=1, keepdims=True)
    return E


def sample_instance(d: int, C: int, n: int | list[int], r_eta: int, lam: float, kappa: float, seed: int,
                    centred: bool = True, equal_norms: bool = True, delta: float = 1.0,
                    decay: float = 0.0) -> SinkDiagInstance:
    """A seeded random instance of the Section 7 setting.

    Args:
        d: ambient dimension, d >= 2C + 1 + r_eta.
        C: number of groups (>= 1).
        n: group size n_c (int, the same for every group) or a list of C sizes, each >= 2.
        r_eta: dimension of the subspace the nuisance is drawn in (>= 1); the instance's
            ``r_eta`` is the rank of the sampled nuisance (at most this; equal in general).
        lam: dormant scale lambda > 0.
        kappa: margin kappa > 0.
        seed: seed of numpy's SeedSequence (same seed, same arrays).
        centred: H1, sum_i eta_ci = 0 in every group.
        equal_norms: H2, ||eta_ci|| = delta for all tokens.
        delta: max ||eta_ci|| (> 0).
        decay: nuisance spectrum, variances j^(-decay), j = 1..r_eta (0 = flat).
    Returns:
        A validated :class:`SinkDiagInstance`.
    Raises:
        InvalidInputError: a parameter breaks its rule (names it), or H1 + H2 with r_eta = 1
            and an odd group size (impossible: a centred set of equal norms on a line pairs up).
    """
    d, C, sizes, r_eta, lam, kappa, delta, decay, seed = check_arguments(
        d, C, n, r_eta, lam, kappa, seed, centred, equal_norms, delta, decay, evaluation=False)
    # two independent streams: the nuisance coefficients do not depend on d, so for one seed the
    # Gram matrix of the tokens is the same at every d once delta scales like sqrt(d)
    seq_basis, seq_eta = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(seq_eta)
    basis, _ = np.linalg.qr(np.random.default_rng(seq_basis).standard_normal((d, 2 * C + 1 + r_eta)))
    U, B = basis[:, : 2 * C + 1], basis[:, 2 * C + 1:]
    spec = np.arange(1, r_eta + 1, dtype=float) ** (-decay)
    eta = np.vstack([_nuisance(rng, B, spec, v, centred, equal_norms) for v in sizes])
    eta *= delta / np.linalg.norm(eta, axis=1).max()
    group = np.repeat(np.arange(C), sizes)
    root = np.sqrt(d)
    b, dbar, c = root * U[:, 0], root * U[:, 1:C + 1].T, root * U[:, C + 1:].T
    return SinkDiagInstance(b, dbar, c, lam * dbar[group] + eta, group, eta, lam, kappa)
