"""Section 7 of Súkeník et al.: instances, margin constraints, the two constructions, kept counterexamples."""
