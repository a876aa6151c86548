"""Where a benchmark's table goes: benchmarks/results/<name>.json, with the machine and date of the
run, which benchmarks/render.py turns into docs/benchmarks.md."""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
"""The folder of the committed results, one JSON file per benchmark."""


def machine() -> str:
    """The machine in a few words (no host name): system, architecture, CPUs, Python."""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def write(name: str, title: str, command: str, columns: list[str], rows: list[list[str]],
          notes: list[str]) -> Path:
    """Write one benchmark's table (cells already formatted) and its notes (goals met or missed)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    table = {"title": title, "command": command, "machine": machine(),
             "date": datetime.date.today().isoformat(), "columns": columns, "rows": rows, "notes": notes}
    path.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
