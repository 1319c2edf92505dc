"""House rules a newcomer relies on: no import cycles in ``xgram/``, no oversized files.

The import graph counts every import, at module level or inside a function: an import
tucked into a function body still means the two modules need each other, and a reader
following the code has to hold both in mind. Imports under ``if TYPE_CHECKING:`` do not
count (they only name types and never run). Optional heavy dependencies (torch,
transformers) are outside ``xgram`` and so never form a cycle here.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO / "xgram"
MAX_LINES = 800
# Compiled modules have no Python source to parse; an import of one is an edge to a leaf.
EXTENSION_MODULES = frozenset({"xgram._core"})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _all_modules() -> Dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_module(name: str, modules: Dict[str, Path]) -> bool:
    return name in modules or name in EXTENSION_MODULES


def _resolve_relative(module: str, is_package: bool, level: int, target: Optional[str]) -> str:
    """Return the absolute name of ``from <level dots><target> import ...`` inside ``module``."""
    base = module.split(".")
    # A package's own __init__ resolves "." to itself; a plain module resolves it to its parent.
    drop = level - 1 if is_package else level
    if drop:
        base = base[:-drop]
    return ".".join(base + ([target] if target else []))


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None) if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``.

    An import there only names a type for annotations; it never runs, so it is
    no dependency (its ``else`` branch, which does run, is kept).
    """
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if _is_type_checking_block(node):
            stack.extend(node.orelse)  # type: ignore[attr-defined]
            continue
        stack.extend(ast.iter_child_nodes(node))


def _imports_of(module: str, path: Path, modules: Dict[str, Path]) -> Set[str]:
    """Return the ``xgram`` modules that ``module`` imports anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    edges: Set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                edges.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                source = _resolve_relative(module, is_package, node.level, node.module)
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                # `from pkg import name` depends on pkg.name when that is a module, else on pkg.
                edges.add(submodule if _is_module(submodule, modules) else source)
    return {edge for edge in edges if _is_module(edge, modules) and edge != module}


def _import_graph() -> Dict[str, Set[str]]:
    modules = _all_modules()
    return {name: _imports_of(name, path, modules) for name, path in modules.items()}


def _find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """Return one import cycle as a list of modules (first repeated last), or None."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: finished
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return path[path.index(successor) :] + [successor]
            if successor not in state:
                found = visit(successor)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_graph_sees_known_edges() -> None:
    graph = _import_graph()
    assert "xgram._core" in graph["xgram.grammar"]  # `from . import _core`, not `xgram`
    assert "xgram.json_schema" in graph["xgram.grammar"] or any(
        name.startswith("xgram.json_schema") for name in graph["xgram.grammar"]
    )
    assert "xgram.errors" in graph["xgram"]


def test_cycle_finder_reports_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles() -> None:
    cycle = _find_cycle(_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_file_over_800_lines() -> None:
    too_long = []
    for root, patterns in ((PACKAGE_DIR, ("*.py",)), (REPO / "cpp", ("*.h", "*.cc", "*.cpp"))):
        for pattern in patterns:
            for path in sorted(root.rglob(pattern)):
                with path.open(encoding="utf-8", errors="replace") as handle:
                    count = sum(1 for _ in handle)
                if count > MAX_LINES:
                    too_long.append(f"{path.relative_to(REPO)}: {count} lines")
    assert not too_long, "files over 800 lines (split them):\n" + "\n".join(too_long)
