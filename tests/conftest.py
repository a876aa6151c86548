"""Hypothesis profiles, chosen by SINKCHECK_PROFILE (default ``ci``).

- ci: derandomized (same examples every run), no deadline, modest example counts;
- dev: random, more examples, no deadline;
- thorough: many examples, for a long run before a release;
- mutation: the ci examples without shrinking, for mutmut runs (a failing example kills the mutant;
  shrinking it only costs time, and on the solver tests it ran past mutmut's timeout).
"""

import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile("ci", max_examples=30, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("mutation", parent=settings.get_profile("ci"),
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile(os.environ.get("SINKCHECK_PROFILE", "ci"))
