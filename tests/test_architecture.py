"""The package structure holds: no import cycles, nothing private crosses modules, stages stay layered.

Read from the source with ``ast`` (nothing is imported), so a cycle that only a lazy import inside a
function closes is found too. Imports under ``if TYPE_CHECKING:`` never run and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGES = ("discourse", "ingest", "quality", "synth")
# What each stage may import from the others. `ingest` and `synth` stand alone; `quality` reads the
# canonical schema and the settings; the app shell (`discourse`) wires everything together.
ALLOWED = {
    "ingest": set(),
    "synth": {"ingest"},
    "quality": {"ingest", "discourse"},
    "discourse": {"ingest", "quality", "synth"},
}
# quality may use only these modules of the app shell (settings are one typed object for all stages).
QUALITY_FROM_DISCOURSE = {"discourse.settings"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        root = SRC / pkg
        if root.is_dir():
            for path in sorted(root.rglob("*.py")):
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):
    """Every node, except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _resolve(module: str, level: int, current: str, is_package: bool) -> str:
    if not level:
        return module
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


class _Imports:
    """A module's project imports: (target module, names taken from it, line)."""

    def __init__(self, name: str, path: Path):
        self.name, self.path = name, path
        self.edges: list[tuple[str, int]] = []
        self.private: list[str] = []
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        aliases: dict[str, str] = {}  # local name -> project module it is bound to
        is_package = path.name == "__init__.py"
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] in PACKAGES:
                        self.edges.append((a.name, node.lineno))
                        if a.asname:
                            aliases[a.asname] = a.name
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(node.module or "", node.level, name, is_package)
                if target.split(".")[0] not in PACKAGES:
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in MODULES:  # `from pkg import module`
                        self.edges.append((sub, node.lineno))
                        aliases[a.asname or a.name] = sub
                    else:
                        self.edges.append((target, node.lineno))
                        if a.name.startswith("_") and target != name:
                            self.private.append(f"{path.relative_to(REPO)}:{node.lineno}: "
                                                f"from {target} import {a.name}")
        for node in _runtime_nodes(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                self.private.append(f"{path.relative_to(REPO)}:{node.lineno}: "
                                    f"{aliases[node.value.id]}.{node.attr}")


IMPORTS = {name: _Imports(name, path) for name, path in MODULES.items()}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, imp in IMPORTS.items():
        for target, _line in imp.edges:
            # `import a.b.c` runs a, a.b and a.b.c; the deepest module is the dependency that matters.
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
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
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_ancestor_package(a: str, b: str) -> bool:
    """A package's ``__init__`` re-exporting its own modules is not a cycle with them."""
    return b.startswith(a + ".") or a.startswith(b + ".")


def test_every_package_is_found():
    assert {name.split(".")[0] for name in MODULES} >= {"discourse", "ingest", "quality"}


def test_no_import_cycles():
    graph = _graph()
    # Edges from a package's __init__ down into its own modules are re-exports, not dependencies.
    pruned = {v: {w for w in ws if not _is_ancestor_package(v, w)} for v, ws in graph.items()}
    cycles = _cycles(pruned)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_nothing_private_crosses_modules():
    found = sorted({line for imp in IMPORTS.values() for line in imp.private})
    assert not found, "private names used across modules:\n" + "\n".join(found)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_stages_are_layered(package: str):
    bad = []
    for name, imp in IMPORTS.items():
        if name.split(".")[0] != package:
            continue
        for target, line in imp.edges:
            top = target.split(".")[0]
            if top == package:
                continue
            allowed = top in ALLOWED[package]
            if package == "quality" and top == "discourse":
                allowed = target in QUALITY_FROM_DISCOURSE
            if not allowed:
                bad.append(f"{imp.path.relative_to(REPO)}:{line}: imports {target}")
    assert not bad, f"{package} reaches outside its stage:\n" + "\n".join(bad)


def test_cycle_finder_finds_a_cycle():
    """The check itself works: a two-module loop and a three-module loop are both reported."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]
