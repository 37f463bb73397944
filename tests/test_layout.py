"""The house rules of the tree: no import cycles, small modules, a CLI that reaches only the API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rnncast"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST):
    """Every node that can run, anywhere in the module (function bodies too), not under TYPE_CHECKING."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def imports_of(name: str) -> set[str]:
    """The rnncast modules `name` imports, at the top or inside functions (lazy imports count)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                # `from rnncast import api` imports rnncast.api; `from rnncast.io import read_series`, rnncast.io.
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def test_the_import_walk_sees_lazy_imports() -> None:
    # rnncast.api imports rnncast.fitting only inside `fit`: the walk must still see it.
    assert "rnncast.fitting" in imports_of("rnncast.api")
    assert "rnncast.api" in imports_of("rnncast.cli.commands")


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A path a -> ... -> a in `graph` (module -> what it imports), or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return None
        for other in sorted(graph.get(name, ())):
            if cycle := visit(other, path + [name]):
                return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        if cycle := visit(name, []):
            return cycle
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles() -> None:
    cycle = find_cycle({name: imports_of(name) for name in MODULES})
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_small(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= (300 if name == "rnncast.api" else 500), f"{name} has {lines} lines"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_its_job_first(name: str) -> None:
    docstring = ast.get_docstring(ast.parse(MODULES[name].read_text()))
    assert docstring and docstring.splitlines()[0].strip(), f"{name} has no one-line docstring"


# What the command line may import: the API (and its part for folders of data), the specs
# and errors, the version, itself.
# rnncast.interrupts, like rnncast.errors, is a contract of exceptions the CLI turns into exit codes.
CLI_MAY_IMPORT = {"rnncast", "rnncast.api", "rnncast.folders", "rnncast.config", "rnncast.errors",
                  "rnncast.interrupts", "rnncast.version"}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("rnncast.cli")))
def test_the_cli_reaches_no_further_than_the_api(name: str) -> None:
    beyond = {m for m in imports_of(name) if not m.startswith("rnncast.cli") and m not in CLI_MAY_IMPORT}
    assert not beyond, f"{name} imports {sorted(beyond)}; go through rnncast.api"


def test_only_the_kernels_import_numba() -> None:
    """Numba's cache folder is chosen in rnncast.kernels before Numba is imported (rnncast.kernels.cache)."""
    for name, path in MODULES.items():
        if name.startswith("rnncast.kernels"):
            continue
        for node in _runtime_nodes(ast.parse(path.read_text())):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(m == "numba" or m.startswith("numba.") for m in modules), f"{name} imports numba"
