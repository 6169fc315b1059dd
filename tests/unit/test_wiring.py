"""How the modules are wired: the import contracts hold (no cycles, the layers, the command line
apart from the UI), every default in one place (streamtop.options), read from the parser once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from streamtop import cli
from streamtop.options import DASHBOARD_DEFAULTS, POLL_DEFAULTS, DashboardOptions, PollOptions
from tests.support import REPO_ROOT


def test_the_import_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts (the layers, no cycles between modules or
    packages, headless modules without textual, the UI without connection/collector/cluster or the
    command line), checked here too so the fast subset catches a broken one. They replace this
    file's own import-graph walk: the acyclic contract also sees cycles between packages."""
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    run = subprocess.run(
        [sys.executable, "-c", code, "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "BROKEN" not in run.stdout and " KEPT" in run.stdout


def test_the_command_line_and_the_dashboard_entry_load_without_textual():
    code = (
        "import sys, streamtop.cli, streamtop.commands.dashboard, streamtop.commands.status, "
        "streamtop.commands.produce; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dashboard_options_come_from_the_parser_once():
    assert DashboardOptions.from_args(cli.build_parser().parse_args([])) == DASHBOARD_DEFAULTS
    args = cli.build_parser().parse_args(
        [
            "--interval",
            "0.5",
            "--stuck-after",
            "2",
            "--poison-deliveries",
            "3",
            "--read-only",
            "--max-streams",
            "7",
            "orders",
            "sensor:*",
        ]
    )
    assert DashboardOptions.from_args(args) == DashboardOptions(
        targets=("orders", "sensor:*"),
        interval=0.5,
        stuck_after=2.0,
        poison_deliveries=3,
        read_only=True,
        poll=PollOptions(max_streams=7),
    )
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
