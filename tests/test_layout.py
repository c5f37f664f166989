"""The house: the import graph of archiver/, read from the source, has no cycle and points one way."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archiver"

# The stages, bottom to top. A module may import its own stage and the stages below it, never one above.
# base is the package itself and its top-level modules (settings, models, errors, clock); cli is on top.
STAGES = ["base", "fetch", "read", "platforms", "detect", "store", "evidence", "browse", "run", "cli"]
TOP = {"archiver.cli", "archiver.__main__"}
MAX_LINES = 500


def module_files() -> dict[str, Path]:
    """Every module of archiver/, by dotted name (a package by its __init__)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def stage_of(module: str) -> str:
    """The stage a module belongs to: its first package under archiver/, base or cli."""
    if module in TOP:
        return "cli"
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and not (PACKAGE / parts[1]).is_dir()):
        return "base"
    return parts[1]


def imports_of(module: str, path: Path, modules: dict) -> set[str]:
    """The archiver modules `module` imports anywhere in its source (lazy imports included)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "archiver":
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "archiver":
                continue
            found.add(target)  # through the package's __init__ (or the module itself)
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:
                    found.add(f"{target}.{alias.name}")
    return {m for m in found if m != module}


def import_graph() -> dict[str, set[str]]:
    """archiver's modules and what each imports."""
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a stage above the importer's."""
    bad = []
    for module, targets in graph.items():
        for target in targets:
            low, high = STAGES.index(stage_of(module)), STAGES.index(stage_of(target))
            if high > low:
                bad.append(f"{module} ({stage_of(module)}) imports {target} ({stage_of(target)})")
    return sorted(bad)


def test_every_package_is_a_known_stage():
    packages = {stage_of(m) for m in module_files()}
    assert packages <= set(STAGES), f"a package with no place in STAGES: {packages - set(STAGES)}"


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_import_graph_has_no_cycle(graph):
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_no_stage_imports_a_stage_above_it(graph):
    assert upward_imports(graph) == []


def test_every_stage_package_says_what_it_owns_and_may_import():
    for stage in STAGES:
        init = PACKAGE / stage / "__init__.py"
        if stage in ("base", "cli"):
            continue
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "import" in doc and len(doc) > 120, f"{init}: a docstring naming what it owns and imports"


def test_no_module_is_over_the_size_limit():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


# The checks themselves, on graphs built to break them.

def test_a_cycle_is_found_through_a_package_init():
    graph = {"archiver.platforms.twitter": {"archiver.platforms.twitter.sources"},
             "archiver.platforms.twitter.sources": {"archiver.platforms.twitter.resolve"},
             "archiver.platforms.twitter.resolve": {"archiver.platforms.twitter"}}
    assert find_cycle(graph) == ["archiver.platforms.twitter", "archiver.platforms.twitter.sources",
                                 "archiver.platforms.twitter.resolve", "archiver.platforms.twitter"]


def test_an_import_from_a_package_counts_as_an_import_of_its_init(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from archiver.platforms.twitter import syndication\n    from . import x\n")
    modules = {"archiver.platforms.twitter.syndication": path, "archiver.platforms.twitter.x": path}
    assert imports_of("archiver.platforms.twitter.resolve", path, modules) == {
        "archiver.platforms.twitter", "archiver.platforms.twitter.syndication", "archiver.platforms.twitter.x"}


@pytest.mark.parametrize("importer, imported, upward", [
    ("archiver.config", "archiver.fetch.http", True),
    ("archiver.store.db", "archiver.browse.metadata", True),
    ("archiver.platforms.bluesky", "archiver.fetch.sources", False),
    ("archiver.run.fetching", "archiver.platforms", False),
    ("archiver.fetch.worker", "archiver.platforms", True),
    ("archiver.cli", "archiver.run.daemon", False),
])
def test_a_lower_stage_importing_a_higher_one_is_reported(importer, imported, upward):
    assert bool(upward_imports({importer: {imported}})) is upward
