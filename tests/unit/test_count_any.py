"""`.ci/count_any.py`, the command CONTRIBUTING gives for counting `Any` in annotations (issue 27),
counts each `Any` of each annotation (and of an alias or a cast's type), by kind, and nothing else."""

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

Alias = dict[str, Any]                      # 1: a module-level alias


def f(a: Any, *args: Any, b: "Any" = None, **kw: typing.Any) -> dict[str, Any]:  # 5
    x: Callable[[Any], Any] = cast(Any, a)  # 3 (the cast's type counts)
    y = "Any"                               # a string, not an annotation
    s: Screen[Any] = None                   # 1: a Textual generic
    return {}


class C:
    z: list[Any]                            # 1
"""


def test_each_any_of_each_annotation_counts_once_by_kind(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    found = count_any.count_file(path)
    assert len(found) == 11
    assert [line for line, _ in found].count(8) == 5
    kinds = [kind for _, kind in found]
    assert kinds.count(count_any.ARGS) == 2
    assert kinds.count(count_any.TEXTUAL) == 1


def test_the_command_prints_the_total_for_the_package():
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True).stdout
    total = sum(len(count_any.count_file(p)) for p in (REPO_ROOT / "streamtop").rglob("*.py"))
    assert out.splitlines()[0].startswith(f"Any in annotations: {total} (")
    assert total > 0
