"""The companion's convention: what the prose says about an executed output is asserted by a cell.

Each code cell of a theorem page is followed by a cell of asserts (hidden with ``remove-cell``,
or shown), or asserts itself, so that building the pages (tests/test_docs_build.py) fails when the prose and
the output disagree.  A cell whose output the prose makes no claim about is listed here by name.
"""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ["cost_identity", "switch", "sink_geometry", "sink_vs_diagonal", "smoothing", "trigger", "gu_appendix_c", "gu_inputs", "gu_training", "sweeps", "variants",
         "variants_theory"]
CELL = re.compile(r"```\{code-cell\} python\n(.*?)```", re.S)
NO_CLAIM: dict[str, list[str]] = {}


def unchecked_cells(text: str) -> list[str]:
    """The last lines of the code cells with neither an assert of their own nor an assert cell right after."""
    cells = list(CELL.finditer(text))
    out = []
    for k, m in enumerate(cells):
        code = m.group(1)
        if code.startswith(":tags: [remove-cell]") or "assert" in code:
            continue
        follower = cells[k + 1] if k + 1 < len(cells) else None
        if follower is not None and "assert" in follower.group(1) and not text[m.end():follower.start()].strip():
            continue
        out.append(code.strip().splitlines()[-1])
    return out


@pytest.mark.parametrize("page", PAGES)
def test_every_output_of_a_theorem_page_is_checked_against_its_prose(page):
    assert unchecked_cells((DOCS / f"{page}.md").read_text()) == NO_CLAIM.get(page, [])


def test_a_cell_without_its_assert_is_found():
    page = "```{code-cell} python\nx = 1\nx\n```\n\nThe output is 1.\n"
    checked = page.replace("\n\nThe", "\n\n```{code-cell} python\n:tags: [remove-cell]\nassert x == 1\n```\n\nThe")
    assert unchecked_cells(page) == ["x"] and unchecked_cells(checked) == []


LOST_BACKSLASH = re.compile(r"[_^]\{\n[a-z]")
"""A TeX command whose backslash became a line break (``\\rm`` written through an unraw string
turns into a carriage return): ``$U_{`` then ``m sink}$`` on the next line."""


@pytest.mark.parametrize("page", sorted(p.stem for p in DOCS.glob("*.md")))
def test_no_tex_command_of_a_page_has_lost_its_backslash_to_a_line_break(page):
    assert LOST_BACKSLASH.findall((DOCS / f"{page}.md").read_text()) == []


def test_a_lost_backslash_is_found():
    assert LOST_BACKSLASH.findall("for $U_{\nm sink}$ and") == ["_{\nm"]
