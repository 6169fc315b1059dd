"""The benchmark scripts still run end to end at a tiny size, and print what docs/benchmarks.md promises:
one table with a target and met column, then one JSON object as the last line, and the full
results file. Structure only: speed figures belong in bench/, never in an assertion here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streamtop.embedded import remove_workdirs_of, workdirs_of
from tests.support import REPO_ROOT

ROOT = REPO_ROOT
PARTS = ("poll", "server", "produce", "ui")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict, list[Path]]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run, left = run_bench("run.py", "--smoke", "--out", str(out))
    results = json.loads(out.read_text()) if out.exists() else {}
    return run, results, left


def run_bench(script: str, *args: str) -> tuple[subprocess.CompletedProcess, list[Path]]:
    """bench/SCRIPT ARGS to its end (killed after 240 s), and the server temp dirs it left (removed)."""
    run = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        stdout, stderr = run.communicate(timeout=240)
    finally:
        run.kill()
        run.wait()
    left = workdirs_of(run.pid)
    remove_workdirs_of(run.pid)
    return subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr), left


def test_run_leaves_no_server_temp_dirs(smoke):
    *_, left = smoke
    assert left == []


def test_run_exits_cleanly_and_ends_with_one_json_object(smoke):
    proc, *_ = smoke
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    headline = json.loads(last)
    assert isinstance(headline, dict)
    assert headline["mode"] == "smoke"
    for key in (
        "poll_collector_ms",
        "poll_floor_ms",
        "poll_collector_over_floor",
        "poll_round_trips",
        "poll_walrus_over_collector",
        "server_usec_per_poll",
        "server_big_over_small",
        "produce_over_bare",
        "produce_over_walrus",
        "targets_met",
        "targets",
    ):
        assert key in headline, key
    assert headline["poll_round_trips"] == 1  # steady state: one pipelined round trip
    assert 0 <= headline["targets_met"] <= headline["targets"]


def test_table_has_every_part_with_target_and_met_columns(smoke):
    proc, *_ = smoke
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| part "))
    cols = [c.strip() for c in lines[header].strip("|").split("|")]
    assert cols == ["part", "figure", "value", "target", "met", "note"]
    body = [line for line in lines[header + 2 :] if line.startswith("|")]
    parts = {line.strip("|").split("|")[0].strip() for line in body}
    assert set(PARTS) <= parts
    mets = {line.strip("|").split("|")[4].strip() for line in body}
    assert mets <= {"", "yes", "NO"}
    assert {"yes", "NO"} & mets  # at least one figure is judged against its target


def test_results_file_holds_rows_machine_and_samples(smoke):
    _, results, _ = smoke
    assert results["mode"] == "smoke"
    assert results["errors"] == {}
    assert results["machine"]["nproc"] >= 1 and results["machine"]["server"].startswith("valkey")
    judged = [r for r in results["rows"] if r["met"] is not None]
    assert judged and all(r["target"] for r in judged)
    poll = results["detail"]["poll"]
    assert set(poll) == {"3", "10"}
    for m in poll.values():
        assert m["collector_round_trips"] == 1 and m["floor_round_trips"] == 1
        assert m["naive_round_trips"] == m["naive_calls"] >= 2 * m["streams"]  # one trip per call
        assert len(m["collector_all_ms"]) == m["reps"]
    assert results["detail"]["server_cost"]["big_pel_real"] == 200


def test_ui_part_is_measured_or_skipped_with_a_reason(smoke):
    _, results, _ = smoke
    ui = results["detail"].get("ui", {})
    if "skipped" in ui:
        assert ui["skipped"]
    else:
        assert ui["dashboard"]["streams"] == 10
        assert ui["dashboard"]["answered"] == ui["dashboard"]["presses"]
        assert ui["dashboard"]["apply_all_ms"]
        assert ui["process"]["big_rss_mb"] > 0


def test_health_bench_runs_and_both_ways_agree():
    """bench/health.py at a tiny size: its table, then its JSON; the verdicts of the pass over the
    window and of the running facts never differ (the figures themselves stay in bench/)."""
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "health.py"),
            "--groups",
            "25",
            "--polls",
            "3",
            "--intervals",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert "pass (old) ms" in lines[1] and "running (new) ms" in lines[1]
    rows = json.loads(lines[-1])
    assert [(r["groups"], r["window_polls"], r["mismatches"]) for r in rows] == [(25, 61, 0)]


# Every other bench script at a tiny size (issue 24, item 12: soak.py had rotted unnoticed). run.py
# covers poll, produce, server_cost and ui; health.py is above. A script that gains an option or a
# new script is listed here, or test_every_bench_script_has_a_smoke_run fails.
TINY = {
    "big_entry.py": ("--mb", "0.1", "--polls", "2"),
    "cluster_faults.py": ("--streams", "20", "--stop", "1"),
    "hung.py": ("--intervals", "0.5"),
    "screen_cost.py": ("--quick", "--seconds", "1", "--streams", "200", "--busy", "200"),
    "serve_metrics.py": ("--streams", "10", "--reps", "2", "--quick"),
    "serve_lean.py": ("--streams", "10", "--scrapes", "1", "--gap", "1", "--before", ""),
    "budget_load.py": ("--streams", "10", "--polls", "2", "--hogs", "1"),
    "soak.py": ("--minutes", "0.05", "--idle-minutes", "0.05", "--rate", "50", "--no-tracemalloc"),
    "stale_apply.py": ("--streams", "10", "--repeat", "1"),
    "time_lag.py": ("--streams", "10", "--reps", "2"),
    "web.py": ("--streams", "5", "--sessions", "1", "--window", "1"),
    "hub.py": ("--streams", "3", "--attached", "1", "--pages", "1", "--window", "1", "--warmup", "3"),
    "scale.py": ("--sizes", "50", "--seconds", "1", "--window", "1", "--cap", "30", "--no-before"),
    "cluster_scale.py": ("--streams", "50", "--window", "1", "--cap", "30", "--no-before"),
    "status_scale.py": ("--sizes", "50"),
    "record.py": ("--seconds", "2", "--hours", "0.05", "--streams", "20", "--busy", "5"),
    "poll_ab.py": ("--before", ".", "--sizes", "20", "--rounds", "1"),  # this tree against itself
    "session_cost.py": ("--other", ".", "--streams", "20", "--rounds", "1"),
    "deadletter.py": ("--before", ".", "--entries", "50"),  # this tree against itself
    "parse_cost.py": ("--before", "HEAD", "--streams", "50", "--reps", "1"),  # the commit against itself
}
COVERED = {
    "run.py",
    "poll.py",
    "produce.py",
    "server_cost.py",
    "ui.py",
    "health.py",
    "common.py",
    "__init__.py",
}


def test_every_bench_script_has_a_smoke_run():
    scripts = {p.name for p in (ROOT / "bench").glob("*.py")}
    assert scripts - COVERED == set(TINY)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(TINY))
def test_bench_script_runs_at_a_tiny_size(script):
    run, left = run_bench(script, *TINY[script])
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.stdout.strip() and left == []
