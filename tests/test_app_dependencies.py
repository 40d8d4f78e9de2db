"""The apps depend on one another in one direction only: no import cycle between ledger, budgets and uploads.

Every import counts, function-local ones and those under `TYPE_CHECKING` included: a cycle hidden inside a
function is still a cycle a newcomer must untangle. Cross-app hooks go through `ledger.registries` instead.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("ledger", "budgets", "uploads")


def imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """(module, line) for every absolute import anywhere in the tree; relative ones stay inside their app."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def app_imports() -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) -> the places ("path:line") where it happens."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            for module, line in imported_modules(ast.parse(path.read_text(), filename=str(path))):
                target = module.split(".")[0]
                if target in APPS and target != app:
                    edges[(app, target)].append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def a_cycle(edges: dict[tuple[str, str], list[str]]) -> list[str] | None:
    """Some cycle of apps (first app repeated at the end), or None when the graph is acyclic."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    state: dict[str, str] = {}  # "open" while on the current path, "done" once fully explored

    def visit(app: str, path: list[str]) -> list[str] | None:
        state[app] = "open"
        for target in sorted(graph[app]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target, [*path, target])):
                return cycle
        state[app] = "done"
        return None

    for app in APPS:
        if app not in state and (cycle := visit(app, [app])):
            return cycle
    return None


def test_the_import_scan_sees_function_local_imports() -> None:
    tree = ast.parse("def seed():\n    from budgets.demo import seed_planning_demo\n")
    assert imported_modules(tree) == [("budgets.demo", 2)]


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    assert a_cycle({("ledger", "budgets"): ["a"], ("budgets", "ledger"): ["b"]}) == ["ledger", "budgets", "ledger"]
    assert a_cycle({("budgets", "ledger"): ["a"], ("uploads", "ledger"): ["b"], ("uploads", "budgets"): ["c"]}) is None


def test_no_app_imports_another_in_a_cycle() -> None:
    edges = app_imports()
    cycle = a_cycle(edges)
    where = {f"{a} -> {b}": places[:5] for (a, b), places in edges.items()} if cycle else {}
    assert cycle is None, f"import cycle between apps {' -> '.join(cycle or [])}; imports: {where}"


def test_the_ledger_depends_on_no_other_app() -> None:
    # The ledger is the shared core the others build on; it learns of them only through ledger.registries.
    edges = app_imports()
    assert {target: places for (source, target), places in edges.items() if source == "ledger"} == {}
