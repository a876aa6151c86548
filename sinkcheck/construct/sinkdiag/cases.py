"""Named instances where a bound of Súkeník et al., Section 7, fails as stated (kept as findings).

Each case is the argument list of :func:`~sinkcheck.construct.sinkdiag.instance.sample_instance` plus ``fallback``; the docstring of
:data:`CASES` says which bound fails, by how much, and which hypothesis restores it. The numbers
are recomputed by the tests and the report check, never copied from here.
"""

from __future__ import annotations

from sinkcheck.construct.sinkdiag.instance import SinkDiagInstance, sample_instance

CASES: dict[str, dict] = {
    # U_sink fails for small lam: every sink solution (OPT) costs more than 12 kappa C / sqrt(d).
    # Restored by lam >= 1 (proved), exact construction threshold lam*(C) in (1/2, 0.624].
    "u_sink_small_lambda": dict(d=12, C=2, n=2, r_eta=2, lam=0.2, kappa=1.0, seed=0, fallback=True),
    # U_diag fails for small lam: OPT_diag > 13 kappa C / sqrt(d) + 4 kappa sqrt(d) r_eta / Delta_diag.
    # Restored (with H2) by lam >= 1/sqrt(sqrt(201)/2 - 3) = 0.4945 (construction, closed form).
    "u_diag_small_lambda": dict(d=12, C=2, n=2, r_eta=2, lam=0.2, kappa=1.0, seed=0, fallback=True),
    # L_sink fails for large lam without the fallback constraints: OPT_sink < kappa C / (2 sqrt d).
    # Restored by lam <= sqrt(15) (proved, H1), or lam <= sqrt(63) with fallback.
    "l_sink_large_lambda_no_fallback": dict(d=12, C=2, n=2, r_eta=2, lam=16.0, kappa=1.0, seed=0, fallback=False),
    # L_diag fails for large lam without fallback, even under H1 + H2 (its C-term is not earned).
    # Restored by lam <= sqrt(15) under H1 (proved).
    "l_diag_large_lambda_no_fallback": dict(d=12, C=2, n=2, r_eta=4, lam=16.0, kappa=1.0, seed=1, fallback=False),
    # L_sink fails even WITH fallback when C > 32 and lam is large: the paper's sink construction (our knobs)
    # meets every margin and costs 1.969 < kappa C / (2 sqrt d) = 2.182 (no solver needed).
    "l_sink_many_groups_with_fallback": dict(d=84, C=40, n=2, r_eta=2, lam=1000.0, kappa=1.0, seed=0, fallback=True),
    # L_sink with fallback, just outside its exact range C <= 15, with neither H1 nor H2: at C = 16 the
    # cheapest sink construction meets every margin and costs less than kappa C / (2 sqrt d) once
    # lam > 293.6 (closed form, sinkdiag_bounds.l_sink_fallback_lambda).
    "l_sink_C16_with_fallback": dict(d=64, C=16, n=2, r_eta=2, lam=1000.0, kappa=1.0, seed=0, fallback=True,
                                     centred=False, equal_norms=False),
    # U_sink as stated (total cost) fails for smaller lam: OPT_sink alone exceeds the QK part plus the
    # paper's value constant 5 (r_eta + C), so no value cost >= 0 can save it (our constraint set).
    "u_sink_total_small_lambda": dict(d=12, C=2, n=2, r_eta=2, lam=0.05, kappa=1.0, seed=0, fallback=True),
    # U_diag as stated (total cost) fails at small lam, with H1 and H2: OPT_diag alone exceeds the QK
    # part plus 3 (r_eta + C). Found by the report's seeded sample (without H2), kept with H2.
    "u_diag_total_small_lambda": dict(d=9, C=3, n=2, r_eta=2, lam=0.15, kappa=1.0, seed=752, fallback=True),
    # Without H2 the diagonal construction breaks a cross-group margin (||eta_ci||^2 < eta_ci^T eta_c'j)
    # although Delta_diag > 0: "some diagonal solution" is then not this one.
    "diag_construction_without_H2": dict(d=14, C=3, n=2, r_eta=3, lam=1.0, kappa=1.0, seed=0, fallback=True,
                                         centred=True, equal_norms=False),
}
"""name -> sample_instance arguments (+ fallback) of each pinned counterexample."""


def case_instance(name: str) -> tuple[SinkDiagInstance, bool]:
    """The instance and the fallback flag of case ``name``."""
    args = dict(CASES[name])
    fallback = args.pop("fallback")
    return sample_instance(**args), fallback
