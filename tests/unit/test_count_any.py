"""`.ci/count_any.py`, the command CONTRIBUTING gives for counting `Any` in annotations (issue 27),
counts each `Any` of each annotation, and nothing else."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from tests.support import REPO_ROOT

SCRIPT = REPO_ROOT / ".ci" / "count_any.py"
spec = importlib.util.spec_from_file_location("count_any", SCRIPT)
assert spec is not None and spec.loader is not None
count_any = importlib.util.module_from_spec(spec)
spec.loader.exec_module(count_any)

SAMPLE = """
import typing
from typing import Any, cast

Alias = dict[str, Any]                      # an alias's right-hand side: not an annotation


def f(a: Any, *args: Any, b: "Any" = None, **kw: typing.Any) -> dict[str, Any]:  # 4
    x: Callable[[Any], Any] = cast(Any, a)  # 2 (the cast is not an annotation)
    y = "Any"                               # a string, not an annotation
    return {}


class C:
    z: list[Any]                            # 1
"""


def test_each_any_of_each_annotation_counts_once(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    n, lines, places = count_any.count(path)
    assert n == 7
    assert [line for line, _ in places].count(8) == 4
    assert lines == SAMPLE.count("\n") + 1


def test_the_command_prints_the_total_for_the_package():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--files"], capture_output=True, text=True, check=True
    ).stdout
    total = sum(count_any.count(p)[0] for p in (REPO_ROOT / "streamtop").rglob("*.py"))
    assert out.splitlines()[-1].startswith(f"{total} Any in annotations in ")
    assert total > 0
