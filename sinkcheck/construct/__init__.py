"""Concrete instances, the explicit weight constructions of the proofs, and convex solvers."""
