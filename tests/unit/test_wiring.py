"""How the modules are wired: no import cycles, the command line apart from the UI, every
default in one place (streamtop.options), read from the parser once."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from streamtop import cli
from streamtop.options import DASHBOARD_DEFAULTS, POLL_DEFAULTS, DashboardOptions, PollOptions

PACKAGE = Path(cli.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under `if TYPE_CHECKING:` (type-only imports never run)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the streamtop modules it imports when it runs: at top level or inside a
    function (a lazy import still closes a cycle), not under `if TYPE_CHECKING:`."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        deps: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    deps.add(sub if sub in modules else target)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}
    path: list[str] = []
    cycles: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert "streamtop.actions.core" in graph and "streamtop.ui.app" in graph  # the scan sees them
    assert cycles == []


def test_commands_import_shared_helpers_not_the_dispatcher_and_the_ui_no_command_line():
    graph = import_graph()
    assert {m for m, deps in graph.items() if "streamtop.cli" in deps} == {"streamtop.__main__"}
    entry = {"streamtop.cli", "streamtop.cliargs", "streamtop.dashboard"}
    ui = {m: deps & entry for m, deps in graph.items() if m.startswith("streamtop.ui")}
    assert {m: deps for m, deps in ui.items() if deps} == {}
    for helper in ("streamtop.actions.trim", "streamtop.actions.deadletter"):
        assert "streamtop.actions.core" not in graph[helper]


def test_the_command_line_and_the_dashboard_entry_load_without_textual():
    code = ("import sys, streamtop.cli, streamtop.dashboard, streamtop.status, streamtop.produce; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dashboard_options_come_from_the_parser_once():
    assert DashboardOptions.from_args(cli.build_parser().parse_args([])) == DASHBOARD_DEFAULTS
    args = cli.build_parser().parse_args(
        ["--interval", "0.5", "--stuck-after", "2", "--poison-deliveries", "3", "--read-only",
         "--max-streams", "7", "orders", "sensor:*"])
    assert DashboardOptions.from_args(args) == DashboardOptions(
        targets=("orders", "sensor:*"), interval=0.5, stuck_after=2.0, poison_deliveries=3,
        read_only=True, poll=PollOptions(max_streams=7))
    assert DashboardOptions(stuck_after=2.5).stuck_ms == 2500


def test_the_demo_takes_the_dashboards_defaults_and_overrides_what_its_workload_sets():
    args = cli.build_parser("demo").parse_args(["--poison-deliveries", "9"])
    assert args.interval == DASHBOARD_DEFAULTS.interval
    # the demo's --poison-deliveries is its workload's: build_app overrides the dashboard's
    options = DashboardOptions.from_args(args, stuck_after=5.0, poison_deliveries=7)
    assert options == DashboardOptions(stuck_after=5.0, poison_deliveries=7)


def test_help_shows_the_defaults_of_the_options_module():
    text = cli.build_parser().format_help()
    assert f"(default {POLL_DEFAULTS.max_streams})" in text
    assert f"(default {DASHBOARD_DEFAULTS.poison_deliveries})" in text


def test_poll_options_refuse_a_cap_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        PollOptions(max_streams=0)
