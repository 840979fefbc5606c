"""The package structure: the layer order of docs/architecture.md (every import goes to the importer's row
or a row above), no import cycle between dasl's packages, imports at the top of files, and the CLI's
choices equal to the registries they name."""

import ast
from pathlib import Path

import dasl

PACKAGE = Path(dasl.__file__).parent
ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
#: modules that may import dasl modules inside functions: the CLI's (so that `dasl --help` stays fast)
#: and the package's lazy `from dasl import Reconstructor`
LAZY_ALLOWED = {"__init__.py"}
CLI = PACKAGE / "cli"


def _imports(path: Path):
    """``(module imported, inside a function)`` for every dasl import of a file."""
    tree = ast.parse(path.read_text())
    nested = {
        id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(f)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dasl":
            names = [node.module] if node.module != "dasl" else [f"dasl.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == "dasl"]
        else:
            continue
        for name in names:
            yield name, id(node) in nested


def _room(module: str) -> str:
    """The package (or top-level module) of ``dasl.x.y``: ``x``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = _room(".".join(("dasl", *path.relative_to(PACKAGE).with_suffix("").parts)))
        for target, _ in _imports(path):
            if _room(target) not in ("", source) and source:
                edges.setdefault(source, set()).add(_room(target))
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages():
    edges = _graph()
    assert "eval" in edges and "geometry" in edges["eval"]  # the graph is really read
    assert _cycle(edges) is None, " -> ".join(_cycle(edges))
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def layer_rows(text: str) -> dict[str, int]:
    """Room -> row of the table in docs/architecture.md (``errors.py`` -> ``errors``, ``nets/`` -> ``nets``)."""
    rows: dict[str, int] = {}
    table = [line for line in text.splitlines() if line.startswith("| `")]
    for row, line in enumerate(table):
        for name in line.split("|")[1].split(","):
            rows[name.strip().strip("`").removesuffix("/").removesuffix(".py")] = row
    return rows


def layer_violations(edges: dict[str, set[str]], rows: dict[str, int]) -> list[str]:
    """Imports that go down the table (to a later row), and rooms the table does not name."""
    bad = [f"{room} is not in docs/architecture.md" for room in sorted(set(edges) - set(rows))]
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if target not in rows:
                bad.append(f"{target} is not in docs/architecture.md")
            elif source in rows and rows[target] > rows[source]:
                bad.append(f"{source} (row {rows[source]}) imports {target} (row {rows[target]})")
    return bad


def test_imports_follow_the_layers_of_the_architecture_doc():
    rows = layer_rows(ARCHITECTURE.read_text())
    assert rows["errors"] == 0 and rows["cli"] == max(rows.values()) and rows["detect"] < rows["regressors"]
    edges = _graph()
    assert layer_violations(edges, rows) == []
    # the stages' rooms know nothing of each other: only stages/ composes them
    assert not edges.get("regressors", set()) & {"detect", "landmarkers", "stages"}
    assert not edges.get("detect", set()) & {"landmarkers", "regressors", "stages"}
    # the check can fail: a regressor importing the detectors, a room the table leaves out
    assert layer_violations({"geometry": {"api"}, "x": {"errors"}}, rows) == [
        "x is not in docs/architecture.md",
        f"geometry (row {rows['geometry']}) imports api (row {rows['api']})",
    ]


def _needs_torch(module: str) -> bool:
    """Whether the dasl module ``dasl.x.y`` imports PyTorch when it is imported."""
    path = PACKAGE.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "torch" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "torch":
            return True
    return False


def test_dasl_modules_are_imported_at_the_top():
    """Except the modules that need PyTorch, which inference on ONNX Runtime never loads (a faster start):
    those are imported where the torch backend (or an export) is asked for."""
    inside = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in PACKAGE.rglob("*.py")
        if (path.name not in LAZY_ALLOWED or path.parent != PACKAGE) and path.parent != CLI
        for name, nested in _imports(path)
        if nested and not _needs_torch(name)
    ]
    assert inside == []
    assert _needs_torch("dasl.nets.landmark_net") and not _needs_torch("dasl.nets.onnx_runtime")


def test_cli_choices_are_the_registries():
    import typing

    from dasl import api
    from dasl.cli import common as cli
    from dasl.detect import DETECTOR_NAMES
    from dasl.eval.aflw2000 import METRICS
    from dasl.regressors import BACKENDS
    from dasl.stages.spec import MAP_SOURCES

    assert [m.value for m in cli.DetectorName] == list(DETECTOR_NAMES)
    assert set(typing.get_args(api.DetectorName)) == set(DETECTOR_NAMES)
    assert [m.value for m in cli.BackendName] == list(BACKENDS)
    assert [m.value for m in cli.MapSource] == list(MAP_SOURCES)
    assert [m.value for m in cli.Metric] == list(METRICS)
