"""Symbolic (sympy) statements of each theorem, with the symbolic steps of the proofs checked."""
