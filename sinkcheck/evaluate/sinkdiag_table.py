"""Bound-comparison tables and the cost-against-d figure (Súkeník et al., Section 7).

A grid is a list of parameter dicts of :data:`~sinkcheck.construct.sinkdiag.params.PARAMS` (keys d,
C, r_eta, lam, and optionally the others). Every row solves both min-cost programs and evaluates
both constructions (a sinkdiag task of the sweep engine, :func:`sinkcheck.sweep.grid.grid_table`);
all costs are QK costs 2 ||W_QK||_*.
"""

from __future__ import annotations

from pathlib import Path

from sinkcheck.core.figures import pyplot, save
from sinkcheck.evaluate.sinkdiag_result import PATTERNS, Evaluation
from sinkcheck.core.tables import Table

DEFAULT_GRID = [dict(d=d, C=C, n=2, r_eta=2, lam=lam, kappa=1.0, seed=0)
                for C in (2, 4) for lam in (0.5, 1.0, 2.0) for d in (16, 64, 256, 1024)]
"""The built-in grid, d in 16..1024, C in {2, 4}, lam in {0.5, 1, 2}, with H1, H2 and fallback on.
The nuisance norm delta is 1 while b, the group directions and the copy queries have norm sqrt(d)."""

PROPORTIONAL_GRID = [dict(d=d, C=2, n=2, r_eta=2, lam=1.0, kappa=1.0, seed=0, delta=float(d) ** 0.5)
                     for d in (16, 64, 256)]
"""The other scaling, delta = sqrt(d) (the nuisance as long as b). The tokens' Gram matrix is then d
times one fixed matrix (the sampler's nuisance coefficients do not depend on d), so both OPTs scale
like 1 / sqrt(d) and their ratio does not depend on d."""

COLUMNS = ["d", "C", "lam", "r_eta", "kappa", "fallback", "L_sink", "OPT_sink", "con_sink", "U_sink",
           "L_diag", "OPT_diag", "con_diag", "U_diag", "OPT_diag/OPT_sink", "winner"]


def table_of(points: list[dict], raw: list[Evaluation]) -> Table:
    """The comparison table of grid ``points`` (every parameter of
    :data:`~sinkcheck.construct.sinkdiag.params.PARAMS`) and their evaluations ``raw`` (in order)."""
    out = []
    for g, r in zip(points, raw):
        s, dg = r.sink, r.diag
        out.append([g["d"], g["C"], g["lam"], r.instance["r_eta"], g["kappa"], g["fallback"], s.lower,
                    s.opt_cell(), s.construction, s.upper, dg.lower, dg.opt_cell(),
                    dg.construction if dg.construction_valid else "invalid", dg.upper,
                    r.ratio_diag_over_sink, r.winner])
    return Table(COLUMNS, out, title="Sink vs diagonal: QK costs 2||W||_* against the stated bounds")


def plot_cost_vs_d(grid_rows: list[dict], raw: list[Evaluation], path: str | Path) -> None:
    """Cost against d for both patterns (OPT lines, construction markers, [L, U] bands), for the
    rows of the first (C, lam) group of the grid."""
    plt = pyplot()
    key = (grid_rows[0]["C"], grid_rows[0]["lam"])
    pts = sorted((g["d"], r) for g, r in zip(grid_rows, raw) if (g["C"], g["lam"]) == key)
    ds = [p[0] for p in pts]
    fig, ax = plt.subplots(figsize=(6, 4))
    for pattern, colour in zip(PATTERNS, ("tab:blue", "tab:red")):
        rs = [p[1].pattern(pattern) for p in pts]
        ax.fill_between(ds, [r.lower for r in rs], [r.upper for r in rs], color=colour, alpha=0.15,
                        label=f"{pattern}: [L, U] (QK parts)")
        ax.plot(ds, [r.opt if r.opt is not None else float("nan") for r in rs], "-o", color=colour,
                label=f"{pattern}: OPT")
        ax.plot(ds, [r.construction for r in rs], "--x", color=colour, label=f"{pattern}: construction")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("d")
    ax.set_ylabel("QK cost 2 ||W_QK||_*")
    ax.set_title(f"Sink vs diagonal, C = {key[0]}, lambda = {key[1]}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, path, dpi=120)


def ratio_bracket(row: Evaluation) -> tuple[float, float]:
    """The certified bracket of OPT_diag / OPT_sink from both patterns' brackets (nan when either
    is unknown)."""
    sink, diag = row.sink, row.diag
    if None in (sink.opt_lower, sink.opt_upper, diag.opt_lower, diag.opt_upper):
        return float("nan"), float("nan")
    return diag.opt_lower / sink.opt_upper, diag.opt_upper / sink.opt_lower


def ratio_grows_with_d(grid: list[dict], raw: list[Evaluation]) -> bool:
    """For every (C, lam) of the grid, the certified ratio bracket at each larger d lies wholly
    above the one at the next smaller d."""
    series: dict[tuple, list[tuple[int, tuple[float, float]]]] = {}
    for g, r in zip(grid, raw):
        series.setdefault((g["C"], g["lam"]), []).append((g["d"], ratio_bracket(r)))
    return all(b[1][0] > a[1][1] for s in series.values() for a, b in zip(sorted(s), sorted(s)[1:]))
