"""Hypothesis profiles, chosen by SINKCHECK_PROFILE (default ``ci``).

- ci: derandomized (same examples every run), no deadline, modest example counts;
- dev: random, more examples, no deadline;
- thorough: many examples, for a long run before a release.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=30, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("SINKCHECK_PROFILE", "ci"))
