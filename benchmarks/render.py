"""Write docs/benchmarks.md from the committed tables in benchmarks/results/ (``python -m benchmarks.render``).

The page is plain Markdown (not executed): each benchmark's latest table, with the command, the
machine and the date that the table records. tests/test_benchmarks_page.py checks that the
committed page is what this writes, so the page cannot go stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.record import RESULTS

PAGE = Path(__file__).parent.parent / "docs" / "benchmarks.md"
"""The generated page."""

INTRO = """\
# Benchmarks

Each benchmark in `benchmarks/` times sinkcheck against a baseline in the same run and writes its
table to `benchmarks/results/<name>.json`; `python -m benchmarks.render` writes this page from
those files (do not edit it by hand). Timings depend on the machine: each table says where and
when it was measured, and with which command (`--quick` runs a smaller grid in a few minutes).
"""


def render(results: Path = RESULTS) -> str:
    """The page's text from every results file, in name order."""
    parts = [INTRO]
    for path in sorted(results.glob("*.json")):
        t = json.loads(path.read_text(encoding="utf-8"))
        parts.append(f"\n## {t['title']}\n\n`{t['command']}` ({path.stem}), {t['machine']}, {t['date']}.\n\n")
        parts.append("| " + " | ".join(t["columns"]) + " |\n")
        parts.append("|" + "---|" * len(t["columns"]) + "\n")
        parts.extend("| " + " | ".join(row) + " |\n" for row in t["rows"])
        if t["notes"]:
            parts.append("\n" + "".join(f"- {note}\n" for note in t["notes"]))
    return "".join(parts)


def main() -> int:
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
