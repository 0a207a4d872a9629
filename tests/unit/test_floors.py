"""The floors of the house: each package imports only what stands below it, and no circles.

From the top: ``herken`` (the application); ``profile_api`` (the service wing) and ``synth`` (the
synthetic generator), which know nothing of each other; ``identity`` (the pipeline, pure of storage).

Every module of the project's packages is parsed with `ast` (nothing is imported), and every import
statement counts: at the top, inside a function, or under ``if TYPE_CHECKING``. An import names the
most specific project module it reaches (``from profile_api.store import models`` is an edge to
``profile_api.store.models``; ``from profile_api.store import open_store`` one to the package
``profile_api.store``). Two things fail:

- an import against the floors (``FORBIDDEN`` below), e.g. ``identity`` importing ``profile_api``;
- a circle: modules that reach each other through imports (a strongly connected component of more
  than one module, or a module that imports itself).

Run as a script (``python tests/unit/test_floors.py`` or ``python bench/imports.py``) it prints the
graph, one module a line with what it imports, then the violations.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The packages of the house, and the generated code that is no one's floor.
PACKAGES = ("identity", "profile_api", "synth", "herken")
SKIPPED = ("profile_api/_generated",)

# What each package may not import: the floors above it, and (for the pipeline) storage.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "identity": ("profile_api", "synth", "herken", "sqlalchemy", "sqlmodel", "alembic", "psycopg", "sqlite3"),
    "profile_api": ("synth", "herken"),
    "synth": ("profile_api", "herken"),
}

# No module of these packages is longer than this (generated code aside): a module longer than that
# holds more than one concern.
MAX_LINES = 700
SHORT_PACKAGES = ("identity", "profile_api", "synth")

# Today's violations, each as (importer, imported); the list shrinks to empty as they are mended.
ALLOWED_AGAINST_FLOORS: set[tuple[str, str]] = set()
# Today's circles, each as the sorted modules of one strongly connected component.
ALLOWED_CIRCLES: set[tuple[str, ...]] = set()


def project_modules(root: Path = ROOT) -> dict[str, Path | None]:
    """Return every module of the project's packages, by dotted name; generated code is one module
    without a path (a leaf: it imports nothing of ours)."""
    modules: dict[str, Path | None] = {skipped.replace("/", "."): None for skipped in SKIPPED}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if any(relative.as_posix().startswith(skipped) for skipped in SKIPPED):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported_names(module: str, path: Path) -> Iterable[str]:
    """Yield the dotted names one module's import statements reach, wherever the statement stands."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base_parts = parts if is_package else parts[:-1]
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                yield f"{base}.{alias.name}" if alias.name != "*" else base


def _resolve(name: str, modules: dict[str, Path | None]) -> str:
    """Return the most specific project module a dotted name reaches, or its top-level name."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return parts[0]


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Return (project graph, outside imports): each module's imported project modules and the
    top-level names of everything else it imports."""
    modules = project_modules(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    outside: dict[str, set[str]] = {name: set() for name in modules}
    for module, path in modules.items():
        if path is None:
            continue
        for name in _imported_names(module, path):
            target = _resolve(name, modules)
            if target in modules:
                if target != module or name == module:
                    graph[module].add(target)
            else:
                outside[module].add(target)
    return graph, outside


def against_floors(graph: dict[str, set[str]], outside: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Return every (importer, imported) pair that imports a floor above the importer's, or storage
    into the pipeline."""
    found = set()
    for module in graph:
        forbidden = FORBIDDEN.get(module.split(".")[0], ())
        for target in graph[module] | outside[module]:
            if target.split(".")[0] in forbidden:
                found.add((module, target))
    return found


def circles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """Return the strongly connected components of more than one module (and self-importers),
    each as a sorted tuple (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: set[tuple[str, ...]] = set()
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.add(tuple(sorted(component)))
    return found


def test_no_import_against_the_floors() -> None:
    graph, outside = import_graph()
    found = against_floors(graph, outside)
    new = sorted(found - ALLOWED_AGAINST_FLOORS)
    assert not new, "imports against the floors:\n" + "\n".join(f"  {a} imports {b}" for a, b in new)
    mended = sorted(ALLOWED_AGAINST_FLOORS - found)
    assert not mended, "mended, take them off ALLOWED_AGAINST_FLOORS:\n" + "\n".join(
        f"  {a} imports {b}" for a, b in mended)


def test_no_circles() -> None:
    graph, _ = import_graph()
    found = circles(graph)
    new = sorted(found - ALLOWED_CIRCLES)
    assert not new, "modules that import each other in a circle:\n" + "\n".join(
        "  " + " <-> ".join(component) for component in new)
    mended = sorted(ALLOWED_CIRCLES - found)
    assert not mended, "mended or changed, update ALLOWED_CIRCLES:\n" + "\n".join(
        "  " + " <-> ".join(component) for component in mended)


def test_no_module_is_longer_than_700_lines() -> None:
    long = {name: n for name, path in project_modules().items()
            if path is not None and name.split(".")[0] in SHORT_PACKAGES
            and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules longer than {MAX_LINES} lines: {long}"


def test_the_checker_sees_a_circle_and_a_floor() -> None:
    graph = {"identity.a": {"identity.b"}, "identity.b": {"identity.a", "profile_api.c"},
             "profile_api.c": set()}
    assert circles(graph) == {("identity.a", "identity.b")}
    assert against_floors(graph, {name: set() for name in graph}) == {("identity.b", "profile_api.c")}


def main() -> int:
    """Print the import graph and the violations; return 1 when there are any beyond the allow-lists."""
    graph, outside = import_graph()
    for module in sorted(graph):
        print(f"{module}: {', '.join(sorted(graph[module])) or '-'}")
    floors = against_floors(graph, outside)
    found = circles(graph)
    print(f"\n{len(graph)} modules, {sum(map(len, graph.values()))} imports between them")
    print(f"imports against the floors: {len(floors)} ({len(floors - ALLOWED_AGAINST_FLOORS)} not allowed)")
    for importer, imported in sorted(floors):
        print(f"  {importer} imports {imported}")
    print(f"circles: {len(found)} ({len(found - ALLOWED_CIRCLES)} not allowed)")
    for component in sorted(found):
        print("  " + " <-> ".join(component))
    return 1 if floors - ALLOWED_AGAINST_FLOORS or found - ALLOWED_CIRCLES else 0


if __name__ == "__main__":
    sys.exit(main())
