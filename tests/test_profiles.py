"""The suite's hypothesis profiles do what docs/testing.md says (tests/support/profiles.py, tests/conftest.py).

Claims: the seeded ci run draws the same examples every time; it replays first a failure that an
earlier (random) run saved in the example database; the explore run's choice of tests is a
function of its seed alone.
"""

from __future__ import annotations

import hypothesis.core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.database import InMemoryExampleDatabase

from tests.support import profiles


def _recording_property(db, fails):
    """A property over integers that records what it draws and fails where ``fails(x)``."""
    drawn = []

    @settings(database=db, max_examples=50, deadline=None)
    @given(st.integers(0, 10**9))
    def prop(x):
        drawn.append(x)
        assert not fails[0](x)

    return prop, drawn


def test_a_seeded_run_draws_the_same_examples_every_time():
    runs = []
    for _ in range(2):
        prop, drawn = _recording_property(InMemoryExampleDatabase(), [lambda x: False])
        profiles.seed_by_name(prop, "tests.test_profiles.prop")
        prop()
        runs.append(drawn)
    assert runs[0] == runs[1] and len(set(runs[0])) > 10


def test_a_failure_saved_by_a_random_run_is_replayed_first_by_the_seeded_run(monkeypatch):
    # a run given --hypothesis-seed (the dev runs of docs/testing.md) turns every database off, by
    # hypothesis's design; the ci profile never has one, so the claim is tested without it
    monkeypatch.setattr(hypothesis.core, "global_force_seed", None)
    db, fails = InMemoryExampleDatabase(), [lambda x: x > 10**8]
    prop, drawn = _recording_property(db, fails)
    with pytest.raises(AssertionError):
        prop()  # random run: fails, shrinks to 10**8 + 1 and saves it
    fails[0] = lambda x: x == 10**8 + 1  # a failure the fixed examples do not reach ...
    profiles.seed_by_name(prop, "tests.test_profiles.prop")
    fresh, fresh_drawn = _recording_property(InMemoryExampleDatabase(), fails)
    profiles.seed_by_name(fresh, "tests.test_profiles.prop")
    fresh()
    assert 10**8 + 1 not in fresh_drawn
    drawn.clear()
    with pytest.raises(AssertionError):  # ... but the saved one is replayed first
        prop()
    assert drawn[0] == 10**8 + 1


def test_the_explored_tests_depend_on_the_seed_alone():
    names = [f"tests/test_x.py::test_{i}" for i in range(40)]
    first = profiles.explored(names, "3f2a9c", 6)
    assert first == profiles.explored(list(reversed(names)) + names[:3], "3f2a9c", 6)
    assert len(first) == 6 and set(first) <= set(names)
    assert any(profiles.explored(names, f"seed{i}", 6) != first for i in range(5))


def test_a_pinned_count_is_kept_under_ci_and_scaled_under_the_other_profiles(monkeypatch):
    monkeypatch.setattr(profiles, "PROFILE", "ci")
    assert profiles.examples(7, thorough=9) == 7
    monkeypatch.setattr(profiles, "PROFILE", "thorough")
    assert profiles.examples(7) == 70 and profiles.examples(7, thorough=9) == 9
    monkeypatch.setattr(profiles, "PROFILE", "dev")
    assert profiles.examples(7, thorough=9) == 21
    monkeypatch.setattr(profiles, "PROFILE", "explore")
    assert profiles.examples(7) == 35 and profiles.examples(7, thorough=9) == 7


class _Item:
    """The two attributes of a pytest item that the budget hook reads."""

    def __init__(self, budget, obj):
        self.nodeid = "tests/test_x.py::test_y"
        self.obj = obj
        self.config = type("Config", (), {"getoption": staticmethod(lambda name: budget)})()


def test_a_property_test_not_started_when_the_budget_is_spent_is_skipped_and_counted(monkeypatch):
    from tests import conftest

    @given(st.integers())
    def prop(x):
        pass

    monkeypatch.setitem(conftest._state, "start", conftest.time.monotonic() - 120)  # two minutes ago
    conftest.pytest_runtest_setup(_Item(5.0, prop))  # within a 5-minute budget: runs
    conftest.pytest_runtest_setup(_Item(1.0, lambda: None))  # not a property test: never skipped
    with pytest.raises(pytest.skip.Exception, match="budget of 1 min is spent") as info:
        conftest.pytest_runtest_setup(_Item(1.0, prop))
    # the summary counts the skipped reports (as they reach the controller, also from xdist workers)
    skipped = type("Report", (), {"nodeid": "tests/test_x.py::test_y", "longrepr": ("x.py", 1, str(info.value))})
    other = type("Report", (), {"nodeid": "tests/test_x.py::test_z", "longrepr": ("x.py", 1, "Skipped: no GPU")})
    lines = []
    reporter = type("Reporter", (), {"stats": {"skipped": [skipped, other]},
                                     "write_line": staticmethod(lambda text, **kw: lines.append(text))})
    conftest.pytest_terminal_summary(reporter, None)
    assert lines == ["1 property tests not run: the budget was spent (first: tests/test_x.py::test_y)"]
