"""The import rules of the layout, checked by reading the source (AST), not by importing it.

Layers, highest first: `tui` → `agent` → `tools` → `sandbox`; `prompts` is data any layer
above `tools` may read. A module may import its own layer and the layers below it, never one
above. Nothing below `tui` imports Textual; `sandbox` imports no LangChain/LangGraph and nothing
of ours above it. And no two files import each other, directly or round a longer loop: every
import counts, including imports inside functions and under `TYPE_CHECKING`, because a loop
through a lazy import still ties the two files together.

    python -m tests.import_rules [ROOT]   # prints every violation; exit 1 when there are any
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Highest layer first; a module may import only its own layer or one to its right.
LAYERS: tuple[str, ...] = ("tui", "agent", "tools", "sandbox")
# Packages outside the layering: who may use them (they themselves import nothing of ours).
SIDE_PACKAGES: dict[str, tuple[str, ...]] = {"prompts": ("tui", "agent")}
# Third-party roots a layer must not import (its own or anything below it).
FORBIDDEN_BELOW_TUI: tuple[str, ...] = ("textual", "textual_plotext", "plotext")
FORBIDDEN_IN_SANDBOX: tuple[str, ...] = (
    "langchain",
    "langchain_core",
    "langchain_aws",
    "langgraph",
)


@dataclass(frozen=True)
class Import:
    """One import statement's target, as a module name, with where it was written."""

    importer: str  # dotted module name of the importing file
    target: str  # dotted module name imported (for `from a.b import c`: a.b.c when it is a module)
    path: Path
    line: int


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path, packages: Iterable[str]) -> Iterator[Path]:
    for package in packages:
        base = root / package
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def _resolve_relative(importer: str, is_package: bool, level: int, module: str | None) -> str:
    parts = importer.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, module] if module else parts)


def imports_of(root: Path, path: Path, known: set[str]) -> list[Import]:
    """Every import in a file (top level, in functions, under TYPE_CHECKING), as module names.

    `from pkg import name` points at `pkg.name` when that is one of our modules, else at `pkg`."""
    importer = module_name(root, path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(importer, alias.name, path, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(importer, path.name == "__init__.py", node.level, base)
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                target = candidate if candidate in known else base
                found.append(Import(importer, target, path, node.lineno))
    return found


def _root(name: str) -> str:
    return name.split(".", 1)[0]


def layer_violations(imports: Iterable[Import]) -> list[Violation]:
    """Upward imports, Textual below `tui`, LangChain in `sandbox`."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    problems: list[Violation] = []
    for imp in imports:
        src, dst = _root(imp.importer), _root(imp.target)
        if src in SIDE_PACKAGES and (dst in rank or dst in SIDE_PACKAGES) and dst != src:
            problems.append(
                Violation(
                    imp.path,
                    imp.line,
                    f"{imp.importer} imports {imp.target}: {src} imports nothing of ours",
                )
            )
        if src not in rank:
            continue
        if dst in rank and rank[dst] < rank[src]:
            problems.append(
                Violation(
                    imp.path,
                    imp.line,
                    f"{imp.importer} ({src}) imports {imp.target}: "
                    f"{src} may not import the higher layer {dst}",
                )
            )
        if dst in SIDE_PACKAGES and src not in SIDE_PACKAGES[dst]:
            problems.append(
                Violation(
                    imp.path,
                    imp.line,
                    f"{imp.importer} imports {imp.target}: "
                    f"only {', '.join(SIDE_PACKAGES[dst])} may use {dst}",
                )
            )
        if src != "tui" and dst in FORBIDDEN_BELOW_TUI:
            problems.append(
                Violation(
                    imp.path,
                    imp.line,
                    f"{imp.importer} imports {imp.target}: only tui may import Textual",
                )
            )
        if src == "sandbox" and dst in FORBIDDEN_IN_SANDBOX:
            problems.append(
                Violation(
                    imp.path,
                    imp.line,
                    f"{imp.importer} imports {imp.target}: "
                    "sandbox may not import LangChain or LangGraph",
                )
            )
    return problems


def import_graph(imports: Iterable[Import], known: set[str]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports."""
    graph: dict[str, set[str]] = {name: set() for name in known}
    for imp in imports:
        if imp.target in known and imp.target != imp.importer:
            graph[imp.importer].add(imp.target)
    return graph


def _loop_through(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """One concrete loop from the first member back to it, inside a strongly connected set."""
    start, inside = members[0], set(members)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & inside):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1])]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return members  # unreachable for a real component


def import_cycles(imports: Iterable[Import], known: set[str]) -> list[list[str]]:
    """Each loop of imports between our files, once, as the modules round it (Tarjan's SCCs)."""
    graph = import_graph(imports, known)

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # iterative, so a deep chain cannot hit the recursion limit
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(_loop_through(graph, sorted(component)))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(components)


def check(root: Path) -> list[str]:
    """Every broken rule under `root`, as readable lines (empty when the layout is clean)."""
    packages = (*LAYERS, *SIDE_PACKAGES)
    files = list(source_files(root, packages))
    known = {module_name(root, p) for p in files}
    imports = [imp for p in files for imp in imports_of(root, p, known)]
    problems = [
        f"{v.path.relative_to(root)}:{v.line}: {v.message}" for v in layer_violations(imports)
    ]
    problems += [
        "import cycle: " + " -> ".join([*cycle, cycle[0]])
        for cycle in import_cycles(imports, known)
    ]
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    problems = check(root)
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
