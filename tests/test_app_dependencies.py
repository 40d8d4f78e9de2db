"""Who may import whom: the shared core imports no app, the apps meet only through public modules, and no cycle.

- `financetracker.core` (the shared core every app builds on) imports none of ledger, budgets, uploads;
- an app imports another only through its public modules and names: nothing named `_private` (module or name);
- the apps depend on one another in one direction only: no import cycle between ledger, budgets and uploads,
  and the ledger depends on neither.

Every import counts, function-local ones and those under `TYPE_CHECKING` included: a cycle hidden inside a
function is still a cycle a newcomer must untangle. Cross-app hooks go through `financetracker.core.registries`.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("ledger", "budgets", "uploads")
CORE = ROOT / "financetracker" / "core"


def imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """(module, line) for every absolute import anywhere in the tree; relative ones stay inside their app."""
    return [(module, line) for module, _names, line in imports_with_names(tree)]


def imports_with_names(tree: ast.AST) -> list[tuple[str, tuple[str, ...], int]]:
    """(module, names imported from it, line) for every absolute import anywhere in the tree."""
    found: list[tuple[str, tuple[str, ...], int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, (), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, tuple(alias.name for alias in node.names), node.lineno))
    return found


def parsed(folder: Path) -> list[tuple[str, ast.AST]]:
    return [
        (str(path.relative_to(ROOT)), ast.parse(path.read_text(), filename=str(path)))
        for path in sorted(folder.rglob("*.py"))
    ]


def app_imports() -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) -> the places ("path:line") where it happens."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app in APPS:
        for where, tree in parsed(ROOT / app):
            for module, line in imported_modules(tree):
                target = module.split(".")[0]
                if target in APPS and target != app:
                    edges[(app, target)].append(f"{where}:{line}")
    return edges


def app_imports_in(files: list[tuple[str, ast.AST]]) -> list[str]:
    """The places where these files import an app (ledger, budgets, uploads)."""
    return [
        f"{where}:{line} {module}"
        for where, tree in files
        for module, line in imported_modules(tree)
        if module.split(".")[0] in APPS
    ]


def private_cross_app_imports(files_by_app: dict[str, list[tuple[str, ast.AST]]]) -> list[str]:
    """Imports from another app of a `_private` module or name."""
    found = []
    for app, files in files_by_app.items():
        for where, tree in files:
            for module, names, line in imports_with_names(tree):
                parts = module.split(".")
                if parts[0] not in APPS or parts[0] == app:
                    continue
                private = [part for part in parts if part.startswith("_")] + [n for n in names if n.startswith("_")]
                if private:
                    found.append(f"{where}:{line} {module} {', '.join(private)}")
    return found


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


def test_the_core_scan_finds_an_app_import_even_inside_a_function() -> None:
    local = ast.parse("def household(pk):\n    from ledger.models import Household\n    return Household\n")
    typing_only = ast.parse("if TYPE_CHECKING:\n    import uploads.models\n")
    clean = ast.parse("from django.apps import apps\nHOUSEHOLD_MODEL = 'ledger.Household'\n")
    found = app_imports_in([("core/a.py", local), ("core/b.py", typing_only), ("core/c.py", clean)])
    assert found == ["core/a.py:2 ledger.models", "core/b.py:2 uploads.models"]


def test_the_private_scan_finds_private_modules_and_names_of_other_apps_only() -> None:
    files: dict[str, list[tuple[str, ast.AST]]] = {
        "uploads": [
            ("uploads/a.py", ast.parse("def f():\n    from ledger.rules import _active_rules\n")),
            ("uploads/b.py", ast.parse("from budgets.management.commands._household import household\n")),
            ("uploads/c.py", ast.parse("from ledger.rules import active_rules\nfrom uploads._x import _y\n")),
        ]
    }
    assert private_cross_app_imports(files) == [
        "uploads/a.py:2 ledger.rules _active_rules",
        "uploads/b.py:1 budgets.management.commands._household _household",
    ]


def test_the_shared_core_imports_no_app() -> None:
    # The core names a model it needs by label ("ledger.Household"), as Django names AUTH_USER_MODEL.
    assert CORE.is_dir()
    assert app_imports_in(parsed(CORE)) == []


def test_apps_import_each_other_only_through_public_modules_and_names() -> None:
    assert private_cross_app_imports({app: parsed(ROOT / app) for app in APPS}) == []


def test_no_app_imports_another_in_a_cycle() -> None:
    edges = app_imports()
    cycle = a_cycle(edges)
    where = {f"{a} -> {b}": places[:5] for (a, b), places in edges.items()} if cycle else {}
    assert cycle is None, f"import cycle between apps {' -> '.join(cycle or [])}; imports: {where}"


def test_the_ledger_depends_on_no_other_app() -> None:
    # budgets and uploads build on the ledger; it learns of them only through financetracker.core.registries.
    edges = app_imports()
    assert {target: places for (source, target), places in edges.items() if source == "ledger"} == {}
