"""The README and docs/*.md promise things the code must keep (issue 27: each thing said once, and
checked where it now lives):

- every test they name (the security table names the test that proves each row) exists;
- every link from the README or a doc into docs/ or the repository resolves, anchors included;
- the status JSON example validates against streamtop/status.schema.json, the one source;
- docs/commands.md and the README list every subcommand; docs/serve.md's metric table lists exactly
  the metrics the exporter writes;
- CONTRIBUTING.md's files exist, and its module table names every module of the package once."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamtop.cli import SUBCOMMANDS
from tests.support import REPO_ROOT
from tests.support.status_schema import schema_errors

DOCS = REPO_ROOT / "docs"
PAGES = [REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _text(page: Path) -> str:
    """The page without HTML comments (the link slots for pages other branches add)."""
    return re.sub(r"<!--.*?-->", "", page.read_text(), flags=re.S)


def _refs() -> list[tuple[str, str, str]]:
    """(page, file, test) for every reference; a `::name` right after a full one is in the same file."""
    refs: list[tuple[str, str, str]] = []
    for page in PAGES:
        for line in _text(page).splitlines():
            current = None
            for m in re.finditer(r"`(tests/[\w/]+\.py)?::(test_\w+)", line):
                current = m.group(1) or current
                assert current is not None, f"{page.name}: a bare ::{m.group(2)} with no file: {line[:80]}"
                refs.append((page.name, current, m.group(2)))
    return refs


def test_every_test_the_docs_name_exists():
    refs = _refs()
    assert len([r for r in refs if r[0] == "security.md"]) >= 20  # the security table alone names more
    for page, path, name in refs:
        source = (REPO_ROOT / path).read_text()
        assert re.search(rf"^(async )?def {name}\b", source, re.M), f"{page}: {path}::{name} is not there"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # a `# comment` in code is no heading
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", _text(page), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_slug_is_githubs():
    assert slug("What watching costs: the screen, within a server budget") == (
        "what-watching-costs-the-screen-within-a-server-budget"
    )
    assert slug("`streamtop status`") == "streamtop-status"
    assert slug("100,000 streams") == "100000-streams"


def test_every_link_into_the_repository_resolves():
    """A link to a file must find it, and a link to a heading (`page.md#anchor`) that heading."""
    checked, broken = 0, []
    for page in PAGES:
        for target in links(page):
            if re.match(r"[a-z]+:", target):  # http(s):, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            checked += 1
            if not dest.exists():
                broken.append(f"{page.relative_to(REPO_ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.relative_to(REPO_ROOT)}: {target} (no such heading)")
    assert checked >= 60  # the parser must find them: the README alone links every doc
    assert broken == []


def test_every_doc_is_reachable_from_the_readme():
    """Every page of docs/ is linked from the README, or from a page the README leads to."""
    seen, todo = set(), [REPO_ROOT / "README.md"]
    while todo:
        page = todo.pop()
        if page in seen or page.suffix != ".md" or not page.exists():
            continue
        seen.add(page)
        todo += [
            (page.parent / t.partition("#")[0]).resolve() for t in links(page) if not re.match(r"[a-z]+:", t)
        ]
    assert set(DOCS.glob("*.md")) - seen == set()
    direct = {Path(t.partition("#")[0]).name for t in links(REPO_ROOT / "README.md")}
    assert {"commands.md", "status-json.md", "serve.md", "security.md", "benchmarks.md"} <= direct


def test_the_status_json_example_is_valid_against_the_schema():
    text = (DOCS / "status-json.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    assert schema_errors(json.loads(blocks[0])) == []
    assert "streamtop/status.schema.json" in text


def test_the_prose_schema_is_gone_from_status_py():
    """The fields are written once, in status.schema.json; status.py's docstring points there."""
    doc = (REPO_ROOT / "streamtop" / "commands" / "status.py").read_text().split('"""', 2)[1]
    assert "status.schema.json" in doc
    assert "oldest_pending_deliveries" not in doc and "lag_estimate_capped" not in doc


def _usage_commands(text: str) -> set[str]:
    block = re.search(r"```text\n(streamtop \[OPTIONS\].*?)```", text, re.S)
    assert block is not None
    names: set[str] = set()
    for line in block.group(1).splitlines():
        m = re.match(r"streamtop ([\w|]+)", line)
        if m:
            names.update(m.group(1).split("|"))
    return names


def test_the_readme_and_commands_md_list_every_subcommand():
    for page in (REPO_ROOT / "README.md", DOCS / "commands.md"):
        assert _usage_commands(page.read_text()) == set(SUBCOMMANDS), page.name


def test_commands_md_has_a_section_for_each_one_shot_command():
    text = (DOCS / "commands.md").read_text()
    for name in ("status", "produce", "tail"):
        assert f"## `streamtop {name}`" in text
    for name in ("trim", "claim", "ack", "deadletter", "redrive", "group"):
        assert re.search(rf"^streamtop {name} ", text, re.M), name


def test_serve_md_lists_exactly_the_metrics_the_exporter_writes():
    source = (REPO_ROOT / "streamtop" / "serve" / "metrics.py").read_text()
    written = set(re.findall(r'"((?:redis_stream|streamtop)_[a-z_]+)"', source))
    table = (DOCS / "serve.md").read_text().split("| metric | labels | what |", 1)[1].split("\n\n", 1)[0]
    listed = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        listed |= {re.sub(r"_total$", "", n) for n in re.findall(r"`(\w+)`", first)}
    assert len(written) >= 40
    assert listed == written


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


def test_contributing_module_table_names_every_module_once():
    """The module table is kept once, in CONTRIBUTING.md: every top-level module and package of
    streamtop has its row, and no name is in two rows."""
    text = (REPO_ROOT / "CONTRIBUTING.md").read_text()
    table = text.split("| module | holds |", 1)[1].split("\n\n", 1)[0]
    named: list[str] = []
    for row in table.splitlines()[2:]:
        named += re.findall(r"`([\w./]+)`", row.split("|")[1])
    assert len(named) == len(set(named)), sorted(n for n in named if named.count(n) > 1)
    package = REPO_ROOT / "streamtop"
    modules = {p.name for p in package.glob("*.py") if p.name != "__init__.py"}
    modules |= {f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()}
    covered = {n for n in named if "/" not in n or n.endswith("/")} | {n.split("/")[0] + "/" for n in named}
    assert modules - covered == set()
    assert "| module | holds |" not in (REPO_ROOT / "README.md").read_text()  # once


def test_the_readme_is_a_front_door():
    """At most 250 lines (issue 27); the reference lives in docs/."""
    assert len((REPO_ROOT / "README.md").read_text().splitlines()) <= 250


def test_every_repository_path_the_docs_name_exists():
    """A path in backticks (`bench/soak.py`, `tests/e2e/test_hangup.py`, `streamtop/hangup.py`) is
    there: a file moved or renamed takes its mentions with it."""
    pattern = re.compile(r"`((?:tests|bench|streamtop|screenshots|docs|\.ci)/[\w./-]*?(?:\.\w+|/))`")
    named = {(page.name, m) for page in PAGES for m in pattern.findall(_text(page))}
    assert len(named) >= 40  # the parser must find them
    written = {"bench/results.json"}  # what bench/run.py writes (git ignores it)
    missing = [
        f"{page}: {path}" for page, path in named if path not in written and not (REPO_ROOT / path).exists()
    ]
    assert sorted(missing) == []
