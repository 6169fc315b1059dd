"""The README's "Security and failure" table names the test that proves each row: those names must
exist, or the table promises a proof that is gone."""

from __future__ import annotations

import re

from tests.support import REPO_ROOT


def _refs() -> list[tuple[str, str]]:
    """(file, test) for every reference; a `::name` right after a full one is in the same file."""
    refs: list[tuple[str, str]] = []
    for line in (REPO_ROOT / "README.md").read_text().splitlines():
        current = None
        for m in re.finditer(r"`(tests/[\w/]+\.py)?::(test_\w+)", line):
            current = m.group(1) or current
            assert current is not None, f"a bare ::{m.group(2)} with no file before it: {line[:80]}"
            refs.append((current, m.group(2)))
    return refs


def test_every_test_the_readme_names_exists():
    refs = _refs()
    assert len(refs) >= 20  # the security table alone names more: the parser must find them
    for path, name in refs:
        source = (REPO_ROOT / path).read_text()
        assert re.search(rf"^(async )?def {name}\b", source, re.M), f"{path}::{name} is not there"


def test_every_file_contributing_names_exists():
    """CONTRIBUTING.md points at files and directories (`ui/dialogs/deadletter.py`, `tests/ui/`,
    `bench/soak.py`): each is there, relative to the repository or to the package."""
    text = (REPO_ROOT / "CONTRIBUTING.md").read_text()
    names = set(re.findall(r"`([\w./]+(?:\.(?:py|tcss|md|toml)|/))`", text))
    assert len(names) >= 30  # the parser must find them
    tracked = {p.name for p in REPO_ROOT.rglob("*") if ".venv" not in p.parts}
    missing = [
        n
        for n in sorted(names)
        if not (
            (REPO_ROOT / n).exists()
            or (REPO_ROOT / "streamtop" / n).exists()
            or ("/" not in n and n in tracked)
        )
    ]
    assert missing == []
