"""Test-suite setup: hypothesis profiles (tests/support/profiles.py), seeding, exploration and a time budget.

- Under the seeded profiles (ci, mutation) every property test draws from a generator seeded by
  its own name, so a run draws the same examples as the last one (plus, under ci, the failures
  saved in the example database, replayed first).
- ``SINKCHECK_PROFILE=explore`` keeps SINKCHECK_EXPLORE_TESTS (default 6) property tests, chosen
  by ``--hypothesis-seed`` (CI passes the commit hash, so a run is reproducible from its commit).
- ``--budget-minutes M``: once M minutes have passed, the property tests not yet started are
  skipped with that reason and counted at the end (the thorough run's budget).
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import is_hypothesis_test

from tests.support import profiles

_state = {"start": time.monotonic()}


def pytest_addoption(parser):
    parser.addoption("--budget-minutes", type=float, default=None,
                     help="skip the property tests that have not started after this many minutes")


def pytest_report_header(config):
    return f"sinkcheck hypothesis profile: {profiles.PROFILE} (SINKCHECK_PROFILE)"


def pytest_collection_modifyitems(config, items):
    props = [it for it in items if is_hypothesis_test(getattr(it, "obj", None))]
    if profiles.SEEDED:
        for it in props:
            if getattr(it.obj, "_hypothesis_internal_use_seed", None) is None:  # no @seed of its own
                profiles.seed_by_name(it.obj, f"{it.module.__name__}.{it.originalname}")
    if profiles.PROFILE == "explore":
        seed = config.getoption("hypothesis_seed", None)
        if seed is None:
            raise pytest.UsageError("SINKCHECK_PROFILE=explore needs --hypothesis-seed (CI passes the commit)")
        k = int(os.environ.get("SINKCHECK_EXPLORE_TESTS", "6"))
        chosen = set(profiles.explored([it.nodeid.split("[")[0] for it in props], seed, k))
        keep = [it for it in items if it.nodeid.split("[")[0] in chosen]
        config.hook.pytest_deselected(items=[it for it in items if it not in keep])
        items[:] = keep


def pytest_runtest_setup(item):
    budget = item.config.getoption("budget_minutes")
    if budget is not None and is_hypothesis_test(getattr(item, "obj", None)):
        if time.monotonic() - _state["start"] > 60 * budget:
            pytest.skip(f"the budget of {budget:g} min is spent")


def pytest_terminal_summary(terminalreporter, config):
    if profiles.PROFILE == "explore":
        terminalreporter.write_line(f"explored (seed {config.getoption('hypothesis_seed')}): "
                                    + ", ".join(sorted({r.nodeid.split('[')[0] for r in terminalreporter.getreports('passed')
                                                        + terminalreporter.getreports('failed')})))
    over = [r.nodeid for r in terminalreporter.stats.get("skipped", []) if "the budget of" in str(r.longrepr)]
    if over:  # counted from the reports, so also when pytest-xdist ran the tests in workers
        terminalreporter.write_line(f"{len(over)} property tests not run: the budget was spent (first: {over[0]})",
                                    yellow=True)
