"""The shape rules of the code base: every function in src/ is at most 80 lines long.

(Complexity is checked by ruff's C901 rule, max 15, configured in pyproject.toml.)
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "activelab"
MAX_LINES = 80


def function_lengths(source: str) -> list[tuple[str, int, int]]:
    """(name, first line, length) of every function, its docstring not counted."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        first = body[0]
        start = first.lineno
        is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str)
        if is_doc:
            start = body[1].lineno if len(body) > 1 else node.end_lineno
        out.append((node.name, node.lineno, node.end_lineno - start + 1))
    return out


def test_function_lengths_counts_code_not_docstring():
    source = 'def f():\n    """doc\n\n    more\n    """\n    a = 1\n    return a\n'
    assert function_lengths(source) == [("f", 1, 2)]


def test_no_function_in_src_is_longer_than_80_lines():
    long = [
        f"{path.relative_to(SRC.parent)}:{line} {name} has {n} lines"
        for path in sorted(SRC.rglob("*.py"))
        for name, line, n in function_lengths(path.read_text(encoding="utf-8"))
        if n > MAX_LINES
    ]
    assert not long, "split these into short named steps:\n" + "\n".join(long)
