"""Derived float64 tolerances for the numerical checks (docs/testing.md).

A check that compares floats states its tolerance as ``safety * gamma_n`` with
gamma_n = n u / (1 - n u), u = eps / 2: the a priori bound on the relative rounding error of a sum or
dot product of n float64 terms (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
Lemma 3.1 and eq. (3.5)).  ``safety`` (16) covers the small constants of LAPACK's backward-stable
SVD and symmetric eigensolver (their backward errors are O(n u) too).  Checks report the error, the
tolerance and the margin, not only a boolean.
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate

U = float(np.finfo(np.float64).eps) / 2
"""The unit roundoff of float64."""


def gamma(n: int) -> float:
    """gamma_n = n u / (1 - n u) (Higham, Lemma 3.1); requires n u < 1."""
    n = validate.integer_at_least("n", n, 1)
    if n * U >= 1:
        raise validate.InvalidInputError(f"n: must satisfy n u < 1 (got {n})")
    return n * U / (1 - n * U)


def rounding_tolerance(n_terms: int, safety: float = 16.0) -> float:
    """safety * gamma_{n_terms}: the relative tolerance of a float comparison after n_terms operations."""
    return validate.positive("safety", safety) * gamma(n_terms)


def margin(error: float, tolerance: float) -> dict:
    """The evidence of a float comparison: error, tolerance, margin = tolerance - error, used fraction."""
    return {"error": float(error), "tolerance": float(tolerance), "margin": float(tolerance - error),
            "fraction_of_tolerance_used": float(error / tolerance)}
