"""The package stays a house a newcomer can live in: small modules, small folders, and constants
whose docstrings say what they are and why in a few lines (measurements live in the benchmarks'
output and docs/benchmarks.md, history in git)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sinkcheck"
MAX_MODULE_LINES = 400
MAX_FOLDER_MODULES = 12
MAX_CONSTANT_DOCSTRING_LINES = 10

MODULES = sorted(PACKAGE.rglob("*.py"))
FOLDERS = sorted({p.parent for p in MODULES})


def constant_docstrings(source: str) -> list[tuple[str, int]]:
    """(name, lines) of every string literal that directly follows an assignment at module or class
    level: the docstring of that constant."""
    out = []
    for scope in ast.walk(ast.parse(source)):
        if not isinstance(scope, (ast.Module, ast.ClassDef)):
            continue
        for before, node in zip(scope.body, scope.body[1:]):
            if isinstance(before, (ast.Assign, ast.AnnAssign)) and isinstance(node, ast.Expr) \
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                target = before.targets[0] if isinstance(before, ast.Assign) else before.target
                out.append((ast.unparse(target), node.end_lineno - node.lineno + 1))
    return out


def long_constant_docstrings(source: str) -> list[str]:
    return [f"{name}: {n} lines" for name, n in constant_docstrings(source) if n > MAX_CONSTANT_DOCSTRING_LINES]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_400_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_folder_holds_more_than_12_modules(folder):
    assert len([p for p in folder.glob("*.py") if p.name != "__init__.py"]) <= MAX_FOLDER_MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_constant_docstring_is_longer_than_10_lines(path):
    assert long_constant_docstrings(path.read_text()) == []


def test_a_planted_long_constant_docstring_is_caught():
    source = "X = 1\n" + '"""' + "\n" * 11 + '"""\n' + "class A:\n    Y = 2\n    'short'\n"
    assert long_constant_docstrings(source) == ["X: 12 lines"]


def test_a_short_constant_docstring_and_a_function_docstring_pass():
    source = 'X = 1\n"""What X is."""\n\n\ndef f():\n    """' + "line\n" * 20 + '"""\n'
    assert long_constant_docstrings(source) == []
