"""Sampled cases of the smoothing model: one table for ``sinkcheck smoothing`` and the report.

Each case is a random valid model (:func:`sinkcheck.construct.smoothing_model.sample_model`); for it
we record the conditions, the closed-form change of the ratio (2) from sparse (lam = 0) to dense
(lam = 1) attention, the same change computed by exact enumeration, and the Monte Carlo change of
the true average cosine similarity (mean over sequences of the mean pairwise cosine).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sinkcheck.core.figures import pyplot, save
from sinkcheck import validate
from sinkcheck.core.limits import check_memory
from sinkcheck.construct import smoothing_model as sm
from sinkcheck.core.metrics import avg_pairwise_cosine
from sinkcheck.theory import smoothing as th
from sinkcheck.core.tables import Table

COLUMNS = ["case", "d", "k", "beta", "beta_trBW", "trBWtW", "paper_condition", "D_k on [0,1]",
           "D'(0)", "D'(1)", "dR_closed", "dR_exact", "dcos_measured", "direction_ok"]
"""dR = R(1) - R(0) for the ratio (2); dcos = avg cos(dense) - avg cos(sparse), Monte Carlo."""


def sample_models(n: int, seed: int) -> list[sm.SmoothingModel]:
    """n random valid models: d in 2..6, k in 2..8, mean and W scales varied (seeded)."""
    n = validate.integer_at_least("n", n, 1)
    rng = np.random.default_rng(validate.integer_at_least("seed", seed, 0))
    out = []
    for _ in range(n):
        d, k = int(rng.integers(2, 7)), int(rng.integers(2, 9))
        out.append(sm.sample_model(rng, d, k, mean_scale=float(rng.choice([0.0, 0.5, 1.0, 2.0])),
                                   W_scale=float(rng.choice([0.3, 1.0, 2.0]))))
    return out


def mean_avg_cos(Y: np.ndarray) -> float:
    """Mean over sequences of the average pairwise cosine of the k rows, Y of shape (n, k, d)."""
    return float(np.mean(avg_pairwise_cosine(Y)))


def case_row(i: int, model: sm.SmoothingModel, n_seq: int, seed: int) -> list:
    """One table row (see :data:`COLUMNS`)."""
    p, q, k = model.p, model.q, model.k
    cond = th.paper_condition(p, q)
    c0, c1 = sm.closed_form(model, 0.0), sm.closed_form(model, 1.0)
    e0, e1 = sm.exact_moments(model, 0.0), sm.exact_moments(model, 1.0)
    X, Z = sm.sample_tokens(model, np.random.default_rng([seed, i]), n_seq)
    dcos = mean_avg_cos(sm.outputs(model, X, Z, 1.0)) - mean_avg_cos(sm.outputs(model, X, Z, 0.0))
    dR = c1["R"] - c0["R"]
    want = {"dense smooths": 1, "dense sharpens": -1}.get(cond, 0)
    ok = "" if want == 0 else bool(want * dR > 0)
    return [i, model.B.shape[0], k, model.beta, p, q, cond, th.monotonicity(p, q),
            -2 * (1 - 1 / k) * (p + q), -2 * (1 - 1 / k) * p, dR,
            e1["N"] / e1["Den"] - e0["N"] / e0["Den"], dcos, ok]


def memory_bytes(n: int, n_seq: int) -> float:
    """An upper estimate of :func:`case_table`'s memory: the n models and rows (a few KiB each) and
    one case's n_seq sequences at once (k <= 8 tokens of d <= 6 dimensions: tokens, two outputs
    and their k x k cosine matrices in float64, a few copies)."""
    return 4096.0 * n + 8.0 * 8 * n_seq * (8 * 6 * 6 + 8 * 8 * 4)


def case_table(n: int, seed: int, n_seq: int = 200):
    """The table (``sinkcheck.core.tables.Table``) of n sampled cases (deterministic in ``seed``)."""
    n = validate.integer_at_least("n", n, 1)
    n_seq = validate.integer_at_least("n_seq", n_seq, 2)
    check_memory("n, n_seq", memory_bytes(n, n_seq), f"{n} cases of {n_seq} sequences")
    rows = [case_row(i, m, n_seq, seed) for i, m in enumerate(sample_models(n, seed))]
    return Table(COLUMNS, rows, title="Sampled cases: conditions, predicted and measured change from sparse to dense")


COLOURS = {"dense smooths": "tab:red", "dense sharpens": "tab:blue", "neither": "tab:gray"}
LABELS = {"dense smooths": "beta tr(BW) > 0", "dense sharpens": "beta tr(BW) + tr(B W^T W) < 0", "neither": "neither"}


def scatter_plot(points: list[tuple[float, float, str]], path: Path, xlabel: str, ylabel: str, title: str) -> None:
    """Predicted vs. measured change, coloured like the paper's Figures 8, 9 (red: beta tr(BW) > 0,
    blue: beta tr(BW) + tr(B W^T W) < 0, gray: neither)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for cond, colour in COLOURS.items():
        xs = [x for x, _, c in points if c == cond]
        ys = [y for _, y, c in points if c == cond]
        if xs:
            ax.scatter(xs, ys, s=14, c=colour, label=LABELS[cond], alpha=0.8)
    ax.axhline(0, lw=0.6, c="k")
    ax.axvline(0, lw=0.6, c="k")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, path, dpi=120)


def true_cosine_counterexample() -> sm.SmoothingModel:
    """FINDING: beta tr(BW) = 0.0381 > 0, so the ratio (2) rises from sparse to dense attention
    (R(1) - R(0) = +0.0035), yet the true average cosine similarity falls (about -0.0005, some 90
    standard errors with 1e5 sequences).  Found among the sampled cases (seed 0, case 296), rounded."""
    return sm.make_model(B=[[0.1, -0.095], [-0.095, 0.1]], W=[[-0.9, -0.5], [1.4, 2.3]], beta=0.7,
                         Sigma_x=[[0.28, 0.03], [0.03, 0.2]], k=4, mu_x=[0.4, 0.8], mu_z=[0.4, 2.7])


def true_cosine_change(model: sm.SmoothingModel, n_seq: int, seed: int) -> tuple[float, float]:
    """Monte Carlo avg cos(dense) - avg cos(sparse) on the same sequences, and its standard error."""
    X, Z = sm.sample_tokens(model, np.random.default_rng(seed), n_seq)

    diff = avg_pairwise_cosine(sm.outputs(model, X, Z, 1.0)) - avg_pairwise_cosine(sm.outputs(model, X, Z, 0.0))
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(n_seq))


def scatter_points(table: Table) -> list[tuple[float, float, str]]:
    """(closed-form dR, measured dcos, the paper's condition) of each case of :func:`case_table`,
    the points of :func:`scatter_plot`."""
    return list(zip(table.column("dR_closed"), table.column("dcos_measured"), table.column("paper_condition")))
