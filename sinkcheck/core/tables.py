"""Tables in Markdown, CSV, LaTeX (booktabs) and JSON: one renderer for every command.

Numbers are formatted with a fixed number of significant digits so that the same seed gives the
same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from sinkcheck import validate

FORMATS = ("markdown", "csv", "latex", "json")
SUFFIX = {"markdown": "md", "csv": "csv", "latex": "tex", "json": "json"}


def fmt_number(x: Any, digits: int = 6) -> Any:
    """Format floats with ``digits`` significant digits; leave everything else alone."""
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return str(x)
        return float(f"{x:.{digits}g}")
    if hasattr(x, "item"):  # numpy scalar
        return fmt_number(x.item(), digits)
    return x


def jsonable(obj: Any, digits: int = 10) -> Any:
    """Recursively turn numpy scalars and arrays into rounded plain Python for json.dumps."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, digits) for v in obj]
    if hasattr(obj, "tolist"):
        return jsonable(obj.tolist(), digits)
    return fmt_number(obj, digits)


def dumps(obj: Any) -> str:
    """Deterministic JSON (sorted keys, rounded floats, trailing newline)."""
    return json.dumps(jsonable(obj), indent=2, sort_keys=True) + "\n"


@dataclass
class Table:
    """A titled table: ``columns`` names and ``rows`` of values in that order; ``legend``, lines that
    say what the columns mean (printed with the title in every format when given)."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    title: str = ""
    legend: tuple[str, ...] = ()

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, (jsonable(v) for v in row))) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        """The values of the column called ``name``, in row order."""
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def render(table: Table, fmt: str = "markdown", verbatim: tuple[int, ...] = ()) -> str:
    """Render ``table`` as ``fmt``, one of markdown, csv, latex or json.

    Columns whose indices are in ``verbatim`` are printed as given (markdown and latex), e.g. a
    score already formatted as "1.000", which tabulate would otherwise print as "1".  A table with a
    ``legend`` gets its title and legend before the table: Markdown paragraphs, LaTeX and CSV ``%``
    / ``#`` comment lines, a JSON ``legend`` list (a table without one renders as before).
    """
    validate.choice("format", fmt, FORMATS)
    rows = [[fmt_number(v) for v in row] for row in table.rows]
    keep = list(verbatim) or False
    head = [table.title, *table.legend] if table.legend else []
    if fmt == "markdown":  # a | inside a cell would end it: escape it
        rows = [[v.replace("|", r"\|") if isinstance(v, str) else v for v in row] for row in rows]
        return ("".join(f"{line}\n\n" for line in head)
                + tabulate(rows, headers=table.columns, tablefmt="github", floatfmt="g", disable_numparse=keep) + "\n")
    if fmt == "latex":
        return ("".join(f"% {line}\n" for line in head)
                + tabulate(rows, headers=table.columns, tablefmt="latex_booktabs", floatfmt="g",
                           disable_numparse=keep) + "\n")
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("".join(f"# {line}\n" for line in head))
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows(rows)
        return buf.getvalue()
    doc = {"title": table.title, "columns": table.columns, "rows": table.records()}
    return dumps({**doc, "legend": list(table.legend)} if table.legend else doc)


def write_table(table: Table, stem: Path, formats: tuple[str, ...] = ("markdown", "csv", "json")) -> None:
    """Write ``table`` to ``stem.md``, ``stem.csv``, ... one file per format (same bytes per seed)."""
    for fmt in formats:
        Path(f"{stem}.{SUFFIX[validate.choice('format', fmt, FORMATS)]}").write_text(render(table, fmt))
