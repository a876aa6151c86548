"""Plant an error in a function, in memory, to see that a test of it can fail (docs/testing.md,
docs/tutorial_own_bound.md). A test that passes with the error planted proves nothing.

:func:`plant` rewrites one function with one of four operators (the errors a referee fears most in
a bound formula) and swaps its code object in place, so every reference to the function (``from m
import f`` included) sees the planted error until the context exits; :func:`planted` does the same
for a function named by its module:

- ``constant``: the ``index``-th numeric literal c becomes c + 1 (a wrong constant);
- ``compare``: the ``index``-th comparison is flipped (< <-> >=, <= <-> >, == <-> !=);
- ``drop_term``: the ``index``-th ``a + b`` or ``a - b`` becomes ``a`` (a dropped term);
- ``sign``: the ``index``-th ``a + b`` becomes ``a - b`` and vice versa (a sign error).

Nodes are counted in source order (line, column) inside the function body. The suite's own
planted-error tests (tests/test_planted_mutations.py) use it on every theorem encoding.
"""

from __future__ import annotations

import __future__
import ast
import contextlib
import importlib
import inspect
import textwrap

from sinkcheck.errors import InvalidInputError

OPERATORS = ("constant", "compare", "drop_term", "sign")
"""The planted-error operators."""

_FLIP = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def _sites(fn_node: ast.FunctionDef, operator: str) -> list[ast.AST]:
    body = [n for stmt in fn_node.body for n in ast.walk(stmt)]
    if operator == "constant":
        sites = [n for n in body if isinstance(n, ast.Constant) and type(n.value) in (int, float)]
    elif operator == "compare":
        sites = [n for n in body if isinstance(n, ast.Compare) and type(n.ops[0]) in _FLIP]
    else:
        sites = [n for n in body if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub))]
    return sorted(sites, key=lambda n: (n.lineno, n.col_offset, -(n.end_col_offset or 0)))


class _Planter(ast.NodeTransformer):
    def __init__(self, target: ast.AST, operator: str):
        self.target, self.operator = target, operator

    def visit(self, node):
        if node is not self.target:
            return self.generic_visit(node)
        if self.operator == "constant":
            return ast.copy_location(ast.Constant(node.value + 1), node)
        if self.operator == "compare":
            node.ops = [_FLIP[type(node.ops[0])]()] + node.ops[1:]
            return node
        if self.operator == "drop_term":
            return node.left
        node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
        return node


def plant_source(func, operator: str, index: int) -> tuple[str, str]:
    """(mutated source of ``func``, "old -> new" of the changed expression).

    Raises:
        InvalidInputError: unknown operator, or fewer than index + 1 sites for it in ``func``.
    """
    if operator not in OPERATORS:
        raise InvalidInputError(f"operator: must be one of {', '.join(OPERATORS)} (got {operator!r})")
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    fn_node = tree.body[0]
    fn_node.decorator_list = []
    sites = _sites(fn_node, operator)
    if not 0 <= index < len(sites):
        raise InvalidInputError(f"index: {func.__qualname__} has {len(sites)} {operator} site(s) (got {index})")
    old = ast.unparse(sites[index])
    new_tree = ast.fix_missing_locations(_Planter(sites[index], operator).visit(tree))
    # the site node was modified in place (compare, sign) or replaced (constant, drop_term)
    new = {"constant": lambda: repr(sites[index].value + 1), "drop_term": lambda: ast.unparse(sites[index].left)}.get(
        operator, lambda: ast.unparse(sites[index]))()
    return ast.unparse(new_tree), f"{old} -> {new}"


@contextlib.contextmanager
def plant(func, operator: str, index: int = 0):
    """Within the block, ``func`` carries the planted error; yields its "old -> new" text.

    ``func`` must be a plain Python function whose source ``inspect`` can read (a module's, or
    one defined in a notebook cell)."""
    src, change = plant_source(func, operator, index)
    code = compile(src, inspect.getsourcefile(func) or "<planted>", "exec",
                   flags=__future__.annotations.compiler_flag, dont_inherit=True)
    scratch = dict(func.__globals__)
    exec(code, scratch)  # noqa: S102 - the function's own source, one definition
    original = func.__code__
    func.__code__ = scratch[func.__name__].__code__
    try:
        yield change
    finally:
        func.__code__ = original


@contextlib.contextmanager
def planted(module: str, function: str, operator: str, index: int = 0):
    """Within the block, ``module.function`` carries the planted error (:func:`plant`); yields its
    "old -> new" text."""
    with plant(getattr(importlib.import_module(module), function), operator, index) as change:
        yield change
