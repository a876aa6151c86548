"""Dependencies run one way (README, "Docs and benchmarks", layout): core <- theory <- solvers, runtime <- construct <-
evaluate <- experiments <- sweep <- report.registry <- report.checks <- report <- cli. A module may
import its own layer and those below it, never one above."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sinkcheck"

LAYERS = [  # (prefix, rank); the longest matching prefix decides
    ("sinkcheck.errors", 0), ("sinkcheck.validate", 0), ("sinkcheck.claims", 0), ("sinkcheck.profiles", 0),
    ("sinkcheck.core", 0), ("sinkcheck.variants", 0),
    ("sinkcheck.theory", 1),
    ("sinkcheck.solvers", 2), ("sinkcheck.runtime", 2),
    ("sinkcheck.construct", 3), ("sinkcheck.models", 3), ("sinkcheck.strategies", 3), ("sinkcheck.planted", 3),
    ("sinkcheck.evaluate", 4),
    ("sinkcheck.experiments", 5),
    ("sinkcheck.sweep", 6),
    ("sinkcheck.report.registry", 7),
    ("sinkcheck.report.checks", 8),
    ("sinkcheck.report", 9),
    ("sinkcheck.cli", 10), ("sinkcheck.__main__", 10), ("sinkcheck", 0),
]


def rank(module: str) -> int:
    return max((p for p in LAYERS if module == p[0] or module.startswith(p[0] + ".")), key=lambda p: len(p[0]))[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str) -> list[tuple[int, str]]:
    """Every sinkcheck module that ``source`` imports (top level or inside functions)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("sinkcheck")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sinkcheck"):
            out += [(node.lineno, f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module)
                    for a in node.names]
    return out


MODULES = {module_name(p) for p in PACKAGE.rglob("*.py")}


def upward_imports(source: str, module: str) -> list[str]:
    return [f"{module}:{line} imports {target}" for line, target in imports(source, module) if rank(target) > rank(module)]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path):
    assert upward_imports(path.read_text(), module_name(path)) == []


def test_a_planted_upward_import_is_caught():
    source = "def f():\n    from sinkcheck.report.runner import run_report\n"
    assert upward_imports(source, "sinkcheck.theory.cost") == \
        ["sinkcheck.theory.cost:2 imports sinkcheck.report.runner"]
