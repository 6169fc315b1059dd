"""The poll path stays in steps (issue 27): no function in collector.py or cluster.py over 60
lines, and ruff's C901 (max-complexity 15, pyproject.toml) holds on the poll path."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.support import REPO_ROOT

POLL_PATH = (
    "streamtop/pipeline/collector.py",
    "streamtop/pipeline/cluster.py",
    "streamtop/pipeline/parse.py",
)
MAX_LINES = 60


@pytest.mark.parametrize("path", POLL_PATH[:2])
def test_no_function_on_the_poll_path_is_longer_than_60_lines(path: str) -> None:
    tree = ast.parse((REPO_ROOT / path).read_text())
    long = {
        n.name: n.end_lineno - n.lineno + 1
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        and n.end_lineno is not None
        and n.end_lineno - n.lineno + 1 > MAX_LINES
    }
    assert not long, f"{path}: {long}"


def test_the_poll_path_is_under_complexity_15() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "C901", *POLL_PATH],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
