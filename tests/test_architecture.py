"""The shape of the package: one-way imports, short modules and functions.

These are the house rules from the README's architecture section, checked on the source
so that a change that breaks them fails here rather than in a maintainer's head.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "automl"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _imports(
    name: str, path: Path, modules: dict[str, Path], type_only_too: bool = False
) -> set[str]:
    """automl modules that ``name`` imports anywhere, functions included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only and not type_only_too:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name if _is_package(name, modules) else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    pkg = pkg.rpartition(".")[0]
                base = f"{pkg}.{base}" if base else pkg
            subs = {f"{base}.{a.name}" for a in node.names} & set(modules)
            # ``from pkg import submodule`` imports the submodule; anything else, pkg.
            found.update(subs if len(subs) == len(node.names) else {base, *subs})
    return {m for m in found if m in modules and m != name}


def _graph(type_only_too: bool = False) -> dict[str, set[str]]:
    modules = _modules()
    graph = {name: _imports(name, p, modules, type_only_too) for name, p in modules.items()}
    for name in graph:
        graph[name].discard(name)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


# The layers, lowest first. A module may import only from its own layer or a lower one.
LAYERS: list[set[str]] = [
    {"_version", "_env", "errors", "ranking", "options", "registry"},
    {"models"},
    {"store"},
    {"data"},
    {"search"},
    {"training", "reports"},
    {"track"},
    {"usercode"},
    {"study"},
    {"run"},
    {"api", "sweeps", "tuner", "__init__"},
    {"cli", "__main__"},
]
TOP_LEVEL_MAX = 12
FRAMEWORKS = ("keras", "tensorflow", "torch", "jax")


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else "__init__"
    for level, names in enumerate(LAYERS):
        if part in names:
            return level
    raise AssertionError(f"{module} is in no layer of LAYERS")


def test_no_import_cycle_counting_type_only_imports_and_imports_in_functions() -> None:
    cycle = _cycle(_graph(type_only_too=True))
    assert cycle is None, " -> ".join(cycle or [])


def test_each_package_imports_only_from_layers_below_it() -> None:
    upward = [
        f"{name} -> {dep}"
        for name, deps in _graph(type_only_too=True).items()
        for dep in deps
        if _layer(dep) > _layer(name)
    ]
    assert not upward


def test_at_most_twelve_modules_directly_in_the_package() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= TOP_LEVEL_MAX, top


def test_reports_read_records_never_the_api() -> None:
    graph = _graph(type_only_too=True)
    for name, deps in graph.items():
        if name.startswith("automl.reports"):
            assert not {d for d in deps if d.split(".")[1] in ("api", "sweeps", "cli")}, name


@pytest.mark.parametrize(
    "args",
    [["--help"], ["spaces", "--validate", "digits_cnn"], ["spaces"], ["tune", "--help"]],
)
def test_the_cli_and_validation_load_no_deep_learning_framework(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from automl.cli.main import app\n"
        f"result = CliRunner().invoke(app, {args!r})\n"
        "assert result.exit_code == 0, result.output\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_no_module_over_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long


def test_no_function_over_60_lines_without_a_reason() -> None:
    long = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                reason = any("long:" in lines[i] for i in range(max(0, start - 3), start))
                if size > MAX_FUNCTION_LINES and not reason:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({size} lines)")
    assert not long


def test_the_spec_accepts_exactly_the_registered_names() -> None:
    from automl.data import READERS
    from automl.models.optimizers import OPTIMIZERS
    from automl.search.samplers import PRUNERS, SAMPLERS
    from automl.search.spec import SweepSpec

    schema = SweepSpec.model_json_schema()["$defs"]
    assert schema["SamplerSpec"]["properties"]["name"]["enum"] == list(SAMPLERS)
    assert schema["PrunerSpec"]["properties"]["name"]["enum"] == list(PRUNERS)
    kinds = schema["DataSpec"]["properties"]["kind"]["anyOf"][0]["enum"]
    assert kinds == list(READERS)
    from automl.models.params import TRAINING_PARAMS

    assert TRAINING_PARAMS["optimizer"].check("lamb") is not None
    assert all(TRAINING_PARAMS["optimizer"].check(name) is None for name in OPTIMIZERS)
