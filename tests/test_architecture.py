"""The seams hold: no import cycles among the project's modules, nothing imports main.py, the
engine imports no GUI module, and every algorithm describes itself in one place.
(That importing the engine loads no Qt at all is checked in test_cli.py.)"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "gui")


def _modules():
    """{module name: path} of main.py and every module in the packages."""
    mods = {"main": ROOT / "main.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


def import_graph():
    """{module: set of project modules it imports}, read from the source (nothing is imported).

    Imports inside functions count: a lazy import is still a dependency.
    """
    mods = _modules()

    def resolve(name):
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {m: set() for m in mods}
    for module, path in mods.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                found = resolve(target)
                if found and found != module:
                    graph[module].add(found)
    return graph


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan), ignoring a package's
    ``__init__`` importing its own submodules."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [c for c in found if not all(m == c[0] or m.startswith(c[0] + ".") for m in c)]


def test_the_import_graph_sees_the_project():
    graph = import_graph()
    assert {"main", "engine.run", "gui.main_window"} <= set(graph)
    assert "engine.run" in graph["engine.scenario"]  # relative imports resolved
    assert "engine.command_line" in graph["main"]


def test_cycle_detection_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert cycles({"pkg": {"pkg.x"}, "pkg.x": {"pkg"}}) == []  # a package and its own module


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_nothing_imports_main():
    assert sorted(m for m, deps in import_graph().items() if "main" in deps) == []


def test_engine_imports_no_gui_module():
    graph = import_graph()
    assert sorted((m, d) for m, deps in graph.items() if m.startswith("engine")
                  for d in deps if d.startswith("gui")) == []


def test_every_algorithm_describes_itself_once():
    from engine.registry import ALGORITHMS
    for name, cls in ALGORITHMS.items():
        d = cls.description
        assert d.name == name and d.display_name
        assert len(set(d.phases)) == 3
        assert d.primary.direction in (-1, 1)
        assert set(cls.setting_names) >= {"max_iter", "tol"}


@pytest.mark.parametrize("module", ["gui/cost_plot.py", "gui/export.py", "gui/controls.py", "gui/session.py",
                                    "gui/render.py", "engine/trace.py", "engine/captions.py"])
def test_views_never_name_an_algorithm(module):
    """Adding an algorithm touches the engine only: these modules read its description."""
    text = (ROOT / module).read_text(encoding="utf-8")
    for name in ('"kmeans"', '"soft-kmeans"', '"em"', '"refit"', '"assign"', '"m"', '"e"'):
        assert name not in text, f"{module} names {name}"
