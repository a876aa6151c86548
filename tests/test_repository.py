"""The repository stays small and self-contained: no tracked file over 1 MiB (a stray wheel or
data dump bloats every clone), and the docs import only the installed package."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1 << 20


def tracked() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_no_tracked_file_exceeds_1_MiB():
    big = [f"{p.relative_to(ROOT)} ({p.stat().st_size} bytes)" for p in tracked() if p.is_file() and p.stat().st_size > LIMIT]
    assert big == []


def test_the_docs_import_only_the_installed_package():
    pages = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "docs" / "conf.py"]
    found = [f"{p.name}: {m.group(0)}" for p in pages
             for m in re.finditer(r"^\s*(from|import)\s+(tests|tools|benchmarks)\b.*$", p.read_text(), re.M)]
    assert found == []
