"""The import graph of ``portal/``: the packages form layers, and no two modules import each other.

Every ``.py`` file under ``portal/`` is parsed with :mod:`ast`, and every ``import`` and
``from ... import`` counts: at module level, inside functions, under ``if TYPE_CHECKING`` —
relative or absolute.  Each is mapped to the top-level name under ``portal/`` it reaches
(``portal.feedback.models`` → ``feedback``; ``portal/lists.py`` → ``lists``; ``from .. import
create_app`` → ``portal``, the package itself).  Imports inside one top-level package are its
own business.

The layers, from the bottom:

1. **Shared infrastructure** (:data:`INFRASTRUCTURE`): every top-level file ``portal/*.py``
   (config, extensions, database, errors, forms, htmx, i18n, lists, pagination, page_cache,
   workflow, tasks, demo, ...) and the packages core (home, nav, dashboard tiles), auth
   (accounts, sessions), audit (the trail every change writes), outbox (mail) and notifications
   (the in-app side of the outbox's mail: ``queue_email`` asks it whether to send).  They serve
   every module and **import no module at all**; among themselves they may import each other.
2. **Modules**, the vertical slices (:data:`MODULE_LAYERS`, lowest first): each may import the
   infrastructure and **only the modules listed before it**, so no cycle can form::

       admin, bookings, rentals, catalogue, suppliers, feedback, surveys, meetings, partners,
       search, workreport

   The catalogue (service categories) sits below everything that names a category; suppliers
   below feedback (an item is routed to a supplier's contract); feedback below surveys (rounds
   go to the roster's supervisors) and meetings (which resolve feedback and read surveys);
   search sits on top because it indexes every module's models.
3. **Assembly**: ``portal/__init__.py`` (``create_app`` registers :data:`portal.MODULES` in
   order) and ``portal/cli.py`` may import anything; nothing under ``portal/`` imports them.

A lower package that needs something from a higher one exposes a hook the higher one fills in
(like ``portal.core.dashboard``'s tile providers: ``catalogue.services.contract_source``,
``pages.page_section`` for another module's page, scorecard or dashboard,
``database.raw_objects``).  Hiding the import inside a function does not help: it counts here.
A new package must be placed in one of the lists (:func:`test_every_package_has_its_place`).
"""

from __future__ import annotations

import ast
from collections import defaultdict, deque
from pathlib import Path

import pytest

import portal

PORTAL = Path(portal.__file__).resolve().parent
ROOT = "portal"  # the package itself: create_app and MODULES
ASSEMBLY = frozenset({ROOT, "cli"})
INFRASTRUCTURE_PACKAGES = frozenset({"core", "auth", "audit", "outbox", "notifications"})
MODULE_LAYERS = ("admin", "bookings", "rentals", "catalogue", "suppliers", "feedback", "surveys",
                 "meetings", "partners", "search", "workreport")


def _top_level_names() -> tuple[set[str], set[str]]:
    """(packages, plain modules) directly under portal/."""
    packages = {path.parent.name for path in PORTAL.glob("*/__init__.py")}
    files = {path.stem for path in PORTAL.glob("*.py") if path.name != "__init__.py"}
    return packages, files


PACKAGES, FILES = _top_level_names()
INFRASTRUCTURE = INFRASTRUCTURE_PACKAGES | (FILES - ASSEMBLY)


def _owner(path: Path) -> str:
    """The top-level name a file belongs to (``portal`` for portal/__init__.py)."""
    parts = path.relative_to(PORTAL).parts
    if len(parts) == 1:
        return ROOT if parts[0] == "__init__.py" else parts[0].removesuffix(".py")
    return parts[0]


def _reached(dotted: str) -> str | None:
    """The top-level name that a dotted module path under ``portal`` reaches."""
    parts = dotted.split(".")
    if parts[0] != ROOT:
        return None
    if len(parts) == 1:
        return ROOT
    return parts[1] if parts[1] in PACKAGES | FILES else ROOT


def imports_of(path: Path, source: str | None = None) -> list[tuple[str, int]]:
    """Every portal name the file imports, with the line: (top-level name, line)."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    package = [ROOT, *path.relative_to(PORTAL).parts[:-1]]  # the file's package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # ``from portal import x`` / ``from .. import x``: x may be a top-level module.
            targets = ([f"{module}.{alias.name}" for alias in node.names] if module == ROOT
                       else [module])
        else:
            continue
        for target in targets:
            name = _reached(target)
            if name is not None:
                found.append((name, node.lineno))
    return found


def import_graph() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) → the ``file:line`` places that make the edge; no self-edges."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PORTAL.rglob("*.py")):
        owner = _owner(path)
        for name, line in imports_of(path):
            if name != owner:
                edges[(owner, name)].append(f"{path.relative_to(PORTAL.parent)}:{line}")
    return dict(edges)


def find_cycles(edges) -> list[list[str]]:
    """The shortest cycle through each node of every strongly connected group of two or more
    nodes (Tarjan's algorithm, then a breadth-first search), each starting at its smallest
    name: every pair of modules that import each other shows, directly or around a loop."""
    successors: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        successors[source].add(target)
        successors.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(successors[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(successors):
        if node not in index:
            connect(node)
    cycles = set()
    for group in groups:
        for start in sorted(group):
            cycle = _shortest_cycle(start, successors, group)
            turn = cycle.index(min(cycle))  # one cycle, whichever node it was found from
            cycles.add(tuple(cycle[turn:] + cycle[:turn]))
    return sorted(list(cycle) for cycle in cycles)


def _shortest_cycle(start: str, successors, group: set[str]) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if start in successors[node]:
            path = [node]
            while path[-1] != start:
                path.append(came_from[path[-1]])
            return list(reversed(path))
        for nxt in sorted(successors[node] & group):
            if nxt not in came_from and nxt != start:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{start} is in a strongly connected group but on no cycle")


def describe_cycle(cycle: list[str], edges) -> str:
    steps = []
    for source, target in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
        steps.append(f"  {source} -> {target}: {', '.join(edges[(source, target)])}")
    return " -> ".join([*cycle, cycle[0]]) + "\n" + "\n".join(steps)


@pytest.fixture(scope="module")
def graph():
    return import_graph()


# --- the checker checks ------------------------------------------------------------------------


def test_the_cycle_finder_finds_a_synthetic_cycle():
    edges = {("a", "b"): ["a.py:1"], ("b", "c"): ["b.py:2"], ("c", "a"): ["c.py:3"],
             ("c", "d"): ["c.py:4"], ("d", "e"): ["d.py:5"]}
    assert find_cycles(edges) == [["a", "b", "c"]]
    assert describe_cycle(["a", "b", "c"], edges).splitlines() == [
        "a -> b -> c -> a", "  a -> b: a.py:1", "  b -> c: b.py:2", "  c -> a: c.py:3"]
    assert find_cycles({key: value for key, value in edges.items() if key != ("c", "a")}) == []
    # Two separate cycles, one of them two modules importing each other.
    assert find_cycles({**edges, ("e", "d"): ["e.py:6"]}) == [["a", "b", "c"], ["d", "e"]]


def test_function_level_relative_and_absolute_imports_all_count():
    source = (
        "from typing import TYPE_CHECKING\n"
        "import portal.search.models\n"
        "from portal import lists, create_app\n"
        "from .. import uploads\n"
        "from ..meetings.models import Meeting\n"
        "if TYPE_CHECKING:\n"
        "    from ..catalogue.models import ServiceCategory\n"
        "def f():\n"
        "    from ..surveys import reports\n"
        "    from . import services\n"
    )
    found = imports_of(PORTAL / "feedback" / "views.py", source)
    assert found == [("search", 2), ("lists", 3), (ROOT, 3), ("uploads", 4), ("meetings", 5),
                     ("catalogue", 7), ("surveys", 9), ("feedback", 10)]


# --- the rules ---------------------------------------------------------------------------------


def test_every_package_has_its_place():
    placed = [*ASSEMBLY, *INFRASTRUCTURE_PACKAGES, *MODULE_LAYERS]
    assert len(placed) == len(set(placed)), "a package is placed twice"
    unplaced = sorted(PACKAGES - set(placed))
    assert unplaced == [], f"place {unplaced} in a layer of tests/test_import_graph.py"
    assert set(MODULE_LAYERS) | INFRASTRUCTURE_PACKAGES <= PACKAGES


def test_no_cycle_between_modules(graph):
    modules = set(MODULE_LAYERS)
    between = {edge: places for edge, places in graph.items()
               if edge[0] in modules and edge[1] in modules}
    cycles = find_cycles(between)
    assert not cycles, "modules import each other:\n" + "\n".join(
        describe_cycle(cycle, between) for cycle in cycles)


def test_modules_import_only_lower_modules(graph):
    rank = {name: n for n, name in enumerate(MODULE_LAYERS)}
    upward = [f"{source} -> {target} (a higher layer): {', '.join(places)}"
              for (source, target), places in sorted(graph.items())
              if source in rank and target in rank and rank[target] > rank[source]]
    assert upward == [], "\n".join(upward)


def test_shared_infrastructure_imports_no_module(graph):
    modules = set(MODULE_LAYERS)
    wrong = [f"{source} -> {target}: {', '.join(places)}"
             for (source, target), places in sorted(graph.items())
             if source in INFRASTRUCTURE and target in modules | ASSEMBLY]
    assert wrong == [], "shared infrastructure imports a module:\n" + "\n".join(wrong)


def test_nothing_imports_the_assembly(graph):
    wrong = [f"{source} -> {target}: {', '.join(places)}"
             for (source, target), places in sorted(graph.items())
             if target in ASSEMBLY and source not in ASSEMBLY]
    assert wrong == [], "\n".join(wrong)


def test_create_app_registers_every_module_from_the_one_list():
    """``portal.MODULES`` names every package with a blueprint, infrastructure first and the
    modules in their layers' order; create_app registers them in one loop."""
    from importlib import import_module

    with_blueprint = {name for name in PACKAGES if hasattr(import_module(f"portal.{name}"), "bp")}
    assert set(portal.MODULES) == with_blueprint
    assert len(portal.MODULES) == len(set(portal.MODULES))
    modules = [name for name in portal.MODULES if name in MODULE_LAYERS]
    assert modules == [name for name in MODULE_LAYERS if name in modules]
    first_module = min(portal.MODULES.index(name) for name in modules)
    assert all(portal.MODULES.index(name) < first_module
               for name in portal.MODULES if name in INFRASTRUCTURE_PACKAGES)
    tree = ast.parse((PORTAL / "__init__.py").read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "attr", None) == "register_blueprint"]
    assert len(calls) == 1, "create_app registers blueprints only in its MODULES loop"


@pytest.mark.parametrize("package", sorted(INFRASTRUCTURE_PACKAGES) + list(MODULE_LAYERS))
def test_each_package_imports_on_its_own_first(package):
    """A model may name a higher module's model by string (a category's contract): the mappers
    can only be configured once every module is imported, so no module may build loader
    options or queries at import time.  Importing any package first, alone, must work."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", f"import portal.{package}"],
                          capture_output=True, text=True, cwd=Path(portal.__file__).parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
