"""Hypothesis profiles of the suite, chosen by SINKCHECK_PROFILE (default ``ci``).

- ci: the same examples every run (each test's generator is seeded by the test's module and name,
  where hypothesis's ``derandomize`` uses a digest of its source), but, unlike ``derandomize``, with
  the example database: a failure that another profile saved in ``.hypothesis/`` is replayed first
  by the next plain run;
- dev: random, 3x the examples;
- thorough: random, 10x the examples (at least 1000 where a test does not pin its count), for a
  long run before a release (docs/testing.md);
- explore: random from ``--hypothesis-seed`` (CI passes the commit), 5x the examples, on a few
  property tests chosen by that seed (tests/conftest.py);
- mutation: the ci examples without shrinking, for mutmut runs (a failing example kills the mutant;
  shrinking it only costs time, and on the solver tests it ran past mutmut's timeout).

A test that pins its count writes ``@settings(max_examples=examples(n))``: n examples under ci and
mutation, scaled by the profile's factor otherwise; ``examples(n, thorough=m)`` caps the thorough
count of a test whose examples are expensive (several solver runs each) and keeps n under explore.
"""

from __future__ import annotations

import hashlib
import os
import random

from hypothesis import HealthCheck, Phase, settings

PROFILE = os.environ.get("SINKCHECK_PROFILE", "ci")

SCALE = {"ci": 1, "mutation": 1, "dev": 3, "thorough": 10, "explore": 5}
"""Factor on the pinned example counts of each profile."""

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", max_examples=30, **_common)
settings.register_profile("dev", max_examples=100, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.register_profile("explore", max_examples=150, database=None, **_common)
settings.register_profile("mutation", parent=settings.get_profile("ci"), database=None,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])

if PROFILE not in SCALE:
    raise ValueError(f"SINKCHECK_PROFILE: must be one of {', '.join(SCALE)} (got {PROFILE!r})")
settings.load_profile(PROFILE)
SEEDED = PROFILE in ("ci", "mutation")
"""Profiles whose examples are fixed by the test's name (tests/conftest.py seeds each test)."""


def seed_by_name(test, name: str):
    """Seed the generator of the hypothesis test ``test`` by ``name`` (module and test name): what
    hypothesis's ``@seed`` sets, without the ``database=None`` that ``@seed`` also sets, so saved
    failures are still replayed before the fixed examples."""
    test._hypothesis_internal_use_seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:16], "big")
    return test


def explored(names: list[str], seed: str, k: int) -> list[str]:
    """The k property tests (of ``names``) that the explore run of ``seed`` exercises, sorted."""
    return sorted(random.Random(str(seed)).sample(sorted(set(names)), min(k, len(set(names)))))


def examples(n: int, thorough: int | None = None) -> int:
    """The example count of a test that pins ``n`` under ci, for the profile in force.  A test with
    a ``thorough`` count (expensive examples) gets that under thorough and n under explore."""
    if thorough is not None and PROFILE in ("thorough", "explore"):
        return thorough if PROFILE == "thorough" else n
    return n * SCALE[PROFILE]
