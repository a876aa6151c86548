"""The suite's exceptions: every bad input and every failed solve raises one of these.

The CLI turns any :class:`SinkcheckError` into a one-line message and exit code 2.
"""


class SinkcheckError(Exception):
    """Base class for the errors sinkcheck raises on purpose."""


class InvalidInputError(SinkcheckError, ValueError):
    """An argument breaks a stated rule; the message names the parameter and the rule."""


class SolverError(SinkcheckError, RuntimeError):
    """A solve did not end with an optimal status, or the solver is unavailable."""


class InfeasibleError(SolverError):
    """The program has no feasible point (the message says which program)."""
