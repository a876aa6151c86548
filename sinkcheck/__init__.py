"""sinkcheck: symbolic and numerical theorem checking for the theory of attention sinks.

Subpackages:
    core       one attention core (numpy float64 and torch) and Gu et al.'s sink metric
    theory     sympy statements of each theorem, with the symbolic steps of the proofs
    construct  instances, the explicit weight constructions of the proofs, convex solvers
    verify     named checks tying theory to constructions, trained models, tables and report
"""

__version__ = "0.1.0"
