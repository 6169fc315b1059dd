"""Tests' helpers live once, in tests/support/ (issue 27): a test module imports no other test
module, except for a pytest fixture (which must be imported where it is used)."""

from __future__ import annotations

import re

from tests.support import REPO_ROOT


def test_no_test_module_imports_another_but_for_a_fixture():
    imports = re.compile(r"^\s*(?:from|import) tests\.(?:unit|integration|ui|e2e)\b.*$", re.M)
    found = []
    for path in sorted((REPO_ROOT / "tests").rglob("*.py")):
        for m in imports.finditer(path.read_text()):
            if "fixture" not in m.group(0):  # `from tests.e2e.test_demo_cli import demo  # noqa: F401 - the fixture`
                found.append(f"{path.relative_to(REPO_ROOT)}: {m.group(0).strip()}")
    assert found == [], "move these helpers to tests/support/"
