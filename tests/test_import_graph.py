"""The package's import graph is acyclic and ``ember.ops`` has no function-local imports.

Layers, bottom to top: the core (``ember.tensor`` with ``_dtype``, ``_device``, ``backend``),
``ember.autograd``, the op families in ``ember.ops``, then ``ember._methods``, the one module that
installs the op-backed Tensor methods. Only module-scope imports count (those run when a module is
first imported); importing ``a.b.c`` also runs the ``__init__`` of each package on the way, except
packages the importer itself lives in, which are already being imported.

``EMBER_IMPORT_GRAPH_ROOT=/path/to/python/ember`` points the checks at another tree.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

ROOT = Path(os.environ.get("EMBER_IMPORT_GRAPH_ROOT",
                           Path(__file__).resolve().parent.parent / "python" / "ember"))

# Function-local imports of ember modules still allowed inside ember/ops: (module, imported) pairs,
# each with the reason it must stay. None are needed today.
OPS_LOCAL_IMPORTS_ALLOWED: set[tuple[str, str]] = set()


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> source file, for every module and package under ``root``."""
    mods = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _resolve(node: ast.ImportFrom | ast.Import, name: str, path: Path, mods) -> set[str]:
    """The ember modules an import statement in module ``name`` runs."""
    targets = set()
    if isinstance(node, ast.Import):
        targets = {alias.name for alias in node.names}
    else:
        if node.level:
            base = _package_of(name, path).split(".")
            base = base[:len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        targets.add(source)
        targets |= {f"{source}.{alias.name}" for alias in node.names
                    if f"{source}.{alias.name}" in mods}  # ``from . import x``, x a submodule
    out = set()
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):  # each package on the way runs its __init__
            mod = ".".join(parts[:i])
            if mod in mods and mod != name and not name.startswith(mod + "."):
                out.add(mod)
    return out


def _is_type_checking(node: ast.stmt) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _top_level_imports(tree: ast.Module):
    """Import statements that run at import time: module and class bodies, not functions."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or \
                _is_type_checking(node):
            continue
        else:
            stack.extend(child for child in ast.iter_child_nodes(node)
                         if isinstance(child, (ast.stmt, ast.excepthandler)))


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    mods = _modules(root)
    graph = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = set()
        for node in _top_level_imports(tree):
            graph[name] |= _resolve(node, name, path, mods)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, iters = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while path:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(sorted(graph.get(nxt, ()))))
    return None


def function_local_imports(root: Path = ROOT, package: str = "ember.ops") -> list[tuple[str, str, int]]:
    """(module, imported ember module, line) for each import inside a function under ``package``."""
    mods = _modules(root)
    found = []
    for name, path in mods.items():
        if name != package and not name.startswith(package + "."):
            continue
        tree = ast.parse(path.read_text(), str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found += [(name, target, node.lineno)
                              for target in sorted(_resolve(node, name, path, mods))]
    return sorted(set(found))


def test_the_import_graph_is_acyclic():
    graph = import_graph()
    assert "ember.tensor" in graph and "ember.ops" in graph, f"no ember package at {ROOT}"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_layers_import_only_downwards():
    graph = import_graph()
    assert not {m for m in graph["ember.tensor"] if m.startswith(("ember.ops", "ember.autograd"))}
    for name, deps in graph.items():
        if name.startswith("ember.autograd"):
            assert not {m for m in deps if m.startswith("ember.ops")}, name
    users = {name for name, deps in graph.items() if "ember._methods" in deps}
    assert users == {"ember"}, users
    # ops sit below nn; the op table alone indexes nn.functional's ops too, and nothing imports it
    for name, deps in graph.items():
        if name.startswith("ember.ops") and not _in_table(name):
            assert not {m for m in deps if m.startswith("ember.nn")}, name
    assert not {name for name, deps in graph.items() if not _in_table(name)
                and any(_in_table(m) for m in deps)}


def _in_table(name: str) -> bool:
    return name == "ember.ops.table" or name.startswith("ember.ops.table.")



def test_ops_have_no_function_local_imports():
    local = [(mod, target, line) for mod, target, line in function_local_imports()
             if (mod, target) not in OPS_LOCAL_IMPORTS_ALLOWED]
    assert not local, "function-local imports in ember.ops:\n" + "\n".join(
        f"  {mod}:{line} imports {target}" for mod, target, line in local)


def test_no_ops_family_module_shares_a_name_with_an_op():
    # a submodule named like a function (ops/norm.py next to reduce.norm) gets its package
    # attribute rebound by whichever import runs last
    import importlib

    ops = importlib.import_module("ember.ops")
    families = {name.rpartition(".")[2] for name in _modules(ROOT)
                if name.startswith("ember.ops.") and name.count(".") == 2}
    for name in families:  # the op table is not imported by ember.ops itself
        importlib.import_module(f"ember.ops.{name}")
    rebound = {name for name in families if not isinstance(getattr(ops, name), type(ops))}
    # ops/softmax.py still shares its name with ops.softmax; `from .softmax import softmax` binds
    # the function last, so nothing has to undo it, but renaming the module would end the overlap
    assert rebound <= {"softmax"}, rebound


def test_nn_functional_defines_no_op():
    # nn.functional composes ops; every Op (a forward with its backward) lives in ember.ops
    tree = ast.parse((ROOT / "nn" / "functional.py").read_text())
    classes = [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    assert not classes, classes
