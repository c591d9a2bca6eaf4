"""No module of activelab imports itself back.

Each module under ``src/activelab`` is parsed with :mod:`ast`; its imports become edges
to the modules of activelab they name.  ``from . import x`` names the submodule ``x``
when there is one, otherwise the package itself; ``from .pkg import name`` names
``pkg``.  Imports under ``if TYPE_CHECKING:`` never run and are left out.

Two graphs are checked:

- the *module-level* graph (the imports that run when a module is imported: module
  level, ``try``/``if`` blocks, class bodies) must have no cycle at all;
- the *deferred* graph adds the imports inside functions.  A function-level import that
  closes a cycle only hides it, so this graph may hold no cycle beyond
  :data:`KNOWN_CYCLES`, and every entry there must still be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Cycles of the deferred graph that exist today and are being removed, each the set of
#: modules in it.  The test fails while an entry names a cycle that no longer exists, so
#: delete an entry when its cycle is gone.
KNOWN_CYCLES: set[frozenset[str]] = set()


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (a directory under ``root``), by dotted name."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _statements(body: list[ast.stmt], deferred: bool) -> Iterator[ast.stmt]:
    """The statements that run on import (and, when ``deferred``, in function bodies)."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if deferred:
                yield from _statements(node.body, deferred)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _statements(node.body, deferred)
            yield from _statements(node.orelse, deferred)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _statements(block, deferred)
            for handler in node.handlers:
                yield from _statements(handler.body, deferred)
        elif isinstance(node, (ast.With, ast.For, ast.While, ast.ClassDef)):
            yield from _statements(node.body, deferred)
            yield from _statements(getattr(node, "orelse", []), deferred)


def _from_base(name: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = name if is_package else name.rpartition(".")[0]
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def imported_modules(name: str, path: Path, modules: set[str], deferred: bool) -> set[str]:
    """The modules of ``modules`` that module ``name`` (file ``path``) imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _statements(tree.body, deferred):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    out.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(name, is_package, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in modules:
                    out.add(sub)
                elif base in modules:
                    out.add(base)
    out.discard(name)
    return out


def import_graph(root: Path, package: str, deferred: bool = False) -> dict[str, set[str]]:
    """Module -> the modules it imports, for every module of ``package``.

    ``deferred=False``: the imports that run when the module is imported;
    ``deferred=True``: those and the imports inside its functions.
    """
    files = module_files(root, package)
    names = set(files)
    return {name: imported_modules(name, p, names, deferred) for name, p in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components that hold a cycle (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_path(graph: dict[str, set[str]], component: frozenset[str]) -> list[str]:
    """One cycle through the first module of ``component``: ``[a, b, ..., a]``."""
    start = min(component)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:  # breadth first inside the component, back to start
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph.get(node, set()) & component):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if nxt not in parents:
                    parents[nxt] = node
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    raise ValueError(f"{sorted(component)} holds no cycle")


# ----------------------------------------------------------------------------- tests
def test_cycle_finder_on_a_hand_made_graph():
    graph = {
        "a": {"b"},
        "b": {"c", "d"},
        "c": {"a"},
        "d": {"e"},
        "e": set(),
        "f": {"f"},  # a module importing itself
        "g": {"a"},
    }
    assert set(strongly_connected(graph)) == {frozenset("abc"), frozenset("f")}
    assert cycle_path(graph, frozenset("abc")) == ["a", "b", "c", "a"]
    assert cycle_path(graph, frozenset("f")) == ["f", "f"]
    graph["c"] = set()
    assert strongly_connected(graph) == [frozenset("f")]


def test_collector_reads_import_time_imports_only(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .sub import thing\n")
    (pkg / "sub" / "__init__.py").write_text("from .. import a\nthing = 1\n")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import pkg.b\n"
        "from . import c\n"
        "if TYPE_CHECKING:\n    from . import d\n"
        "try:\n    from .sub import thing\nexcept ImportError:\n    pass\n"
        "def f():\n    from . import e\n"
    )
    for leaf in "bcde":
        (pkg / f"{leaf}.py").write_text("import numpy\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg"] == {"pkg.sub"}
    assert graph["pkg.sub"] == {"pkg.a"}
    assert graph["pkg.a"] == {"pkg.b", "pkg.c", "pkg.sub"}
    assert graph["pkg.e"] == set()
    assert strongly_connected(graph) == [frozenset({"pkg.sub", "pkg.a"})]  # a -> sub -> a
    deferred = import_graph(tmp_path, "pkg", deferred=True)
    assert deferred["pkg.a"] == {"pkg.b", "pkg.c", "pkg.e", "pkg.sub"}  # still no pkg.d


def _cycle_messages(graph: dict[str, set[str]], allowed: set[frozenset[str]]) -> list[str]:
    found = set(strongly_connected(graph))
    messages = [
        "import cycle: " + " -> ".join(cycle_path(graph, component))
        for component in sorted(found - allowed, key=sorted)
    ]
    messages += [
        f"KNOWN_CYCLES lists {sorted(component)}, which is no longer a cycle; remove it"
        for component in sorted(allowed - found, key=sorted)
    ]
    return messages


def test_no_module_level_import_cycle():
    graph = import_graph(SRC, "activelab")
    assert {"activelab.strategies.base", "activelab.proba"} <= set(graph)  # the walk ran
    messages = _cycle_messages(graph, set())
    if messages:
        pytest.fail("\n".join(messages))


def test_function_level_imports_close_no_cycle_beyond_the_known_ones():
    graph = import_graph(SRC, "activelab", deferred=True)
    assert {"activelab.loop", "activelab.events"} <= set(graph)  # the walk ran
    messages = _cycle_messages(graph, KNOWN_CYCLES)
    if messages:
        pytest.fail("\n".join(messages))
