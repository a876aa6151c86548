"""sinkcheck: symbolic and numerical theorem checking for the theory of attention sinks.

Subpackages, lowest layer first (a module imports only its own layer and those below it):
    core         one attention core (numpy float64 and torch), Gu et al.'s sink metric, files, tables
    theory       sympy statements of each theorem, with the symbolic steps of the proofs
    solvers      the margin program: its forms, weak-duality certificates and the solver ladder
    runtime      the generic task engine (serial or Dask), task seeds and keys, the results database
    construct    instances, the explicit weight constructions of the proofs, kept cases
    evaluate     measurements of instances and heads against the stated bounds
    experiments  torch training runs and the pretrained model
    sweep        what ``sinkcheck sweep`` runs: task kinds, SPEC files, resumable runs, views
    report       the check registry, the checks (one module per topic) and the report runner
    cli          one module per command
"""

__version__ = "0.1.0"
