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


class WideBracketError(SolverError):
    """An optimal solve whose certified bracket lower <= OPT <= upper is wider than the relative gap
    a reported number may have: no number is reported, but the bracket (weak duality and a checked
    feasible point, so valid whatever its width) travels with the error as ``lower`` and ``upper``."""

    def __init__(self, message: str, lower: float, upper: float):
        super().__init__(message)
        self.lower, self.upper = lower, upper


class IllConditionedError(SolverError):
    """A feasible program refused as too badly conditioned to solve (its best box margin t* is
    tiny, so OPT is of order 1/t*).  No number is reported, but ``lower`` is a certified lower bound
    on OPT (weak duality with the feasibility LP's dual), valid whatever t* is."""

    def __init__(self, message: str, lower: float):
        super().__init__(message)
        self.lower = lower
