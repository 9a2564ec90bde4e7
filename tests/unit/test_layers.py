"""The layers hold: every import in tui/ and widgets/ points down, and none goes round.

The folders are the layers (README, "Layout"). An arrow up is how a pure judgement comes to
need a terminal, or the production cockpit to carry the simulator: this walks every
import statement, at module level, inside functions and under ``TYPE_CHECKING`` alike,
and names each arrow that breaks the order.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GROUND = ("tui", "tui.clock", "tui.errors", "tui.durations", "tui.config", "tui.kubeclient")
"""What every layer stands on: the package itself, clocks, errors, durations, the config
model and the Kubernetes client's construction."""

LAYERS: dict[str, tuple[str, ...]] = {
    # layer: the layers it may import (its own and the ground always)
    "ground": (),
    "tui.domain": (),
    "tui.store": ("tui.domain",),
    "tui.sources": ("tui.domain", "tui.store"),
    "tui.actions": ("tui.domain", "tui.store", "tui.sources"),
    "tui.refresh": ("tui.domain", "tui.store", "tui.sources"),
    "widgets": ("tui.domain",),
    "app": ("tui.domain", "tui.store", "tui.sources", "tui.actions", "tui.refresh", "widgets"),
    "tui.sim": ("tui.domain", "tui.store", "tui.sources", "tui.actions"),
    "tui.cli": (
        "tui.domain",
        "tui.store",
        "tui.sources",
        "tui.actions",
        "tui.refresh",
        "widgets",
        "app",
        "tui.sim",
    ),
    "main": ("tui.cli",),
}


def layer(module: str) -> str:
    if module in GROUND:
        return "ground"
    if module in ("tui.app",) or module.startswith("tui.cockpit"):
        return "app"
    if module == "tui.__main__":
        return "main"
    for name in LAYERS:
        if module == name or module.startswith(name + "."):
            return name
    raise AssertionError(f"{module} is in no layer: add it to tests/unit/test_layers.py")


def modules() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.glob("tui/**/*.py"), *ROOT.glob("widgets/**/*.py")]:
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def imports(module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for each of ours that ``module`` imports."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("tui", "widgets"):
                yield node.lineno, name


def test_every_import_points_down() -> None:
    wrong = []
    for module in sorted(MODULES):
        mine = layer(module)
        allowed = {mine, "ground", *LAYERS[mine]}
        for line, target in imports(module):
            if layer(target) not in allowed:
                wrong.append(f"{MODULES[module].relative_to(ROOT)}:{line} {module} -> {target}")
    assert wrong == [], "imports that point up a layer:\n" + "\n".join(wrong)


def test_no_import_goes_round() -> None:
    graph = {m: {t for _, t in imports(m) if t in MODULES and t != m} for m in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append([*stack[stack.index(t) :], t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("module", "target"),
    [("widgets.canary_view", "tui.actions.canary"), ("tui.sources.kube", "tui.sim.fleet")],
)
def test_a_backward_arrow_is_caught(module: str, target: str) -> None:
    """The rule itself: the two arrows this layout removed would fail it."""
    assert layer(target) not in {layer(module), "ground", *LAYERS[layer(module)]}
