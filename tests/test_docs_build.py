"""The worked companion builds with warnings as errors, executing every code cell."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.docs
@pytest.mark.skipif(importlib.util.find_spec("myst_nb") is None, reason="docs extra not installed (pip install -e '.[docs]')")
def test_docs_build_without_warnings(tmp_path):
    built = os.environ.get("SINKCHECK_DOCS_HTML")  # CI builds once with the README's command, then checks it here
    html = Path(built) if built else tmp_path / "html"
    if not built:
        result = subprocess.run(
            [sys.executable, "-m", "sphinx", "-nW", "--keep-going", "-b", "html", str(DOCS), str(html)],
            capture_output=True, text=True, timeout=1500,
            env={**os.environ, "PYTHONPATH": str(DOCS.parent)},  # the kernel imports this checkout
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    pages = sorted(p.stem for p in html.glob("*.html"))
    assert {p.stem for p in DOCS.glob("*.md")} <= set(pages), f"pages missing from the build in {html}"
    # display math that MyST mis-parsed leaves a stray $ glued to a math span (or a literal $$)
    stray = re.compile(r'\$<span class="math|</span>\$|\$\$')
    raw = [p.name for p in html.glob("*.html") if stray.search(p.read_text())]
    assert raw == [], f"unparsed $$ display math in {raw}"
    # every claim of the ledger has its statement, under its id, on its docs page
    from sinkcheck.claims import CLAIMS_LIST
    missing = [c.id for c in CLAIMS_LIST
               if f'id="{c.anchor}"' not in (html / f"{c.docs}.html").read_text()]
    assert missing == [], f"claims without their anchor in the built docs: {missing}"
