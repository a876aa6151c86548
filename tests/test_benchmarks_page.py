"""docs/benchmarks.md is generated from the committed benchmark results (benchmarks/render.py), so
the page cannot drift from the tables it shows."""

from __future__ import annotations

import json

from benchmarks import render
from benchmarks.record import RESULTS


def test_the_committed_benchmarks_page_is_what_the_generator_writes_from_the_committed_results():
    assert render.PAGE.read_text(encoding="utf-8") == render.render()


def test_every_committed_result_records_its_command_machine_and_date_and_has_full_rows():
    tables = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.glob("*.json"))]
    assert {p.stem for p in RESULTS.glob("*.json")} >= {"min_cost", "span_reduction", "bounds_in_d", "sweep"}
    for t in tables:
        assert t["command"].startswith("python -m benchmarks.") and t["machine"] and t["date"]
        assert t["rows"] and all(len(row) == len(t["columns"]) for row in t["rows"])
