"""One poison (issue 25, item 5): one setting, `--poison-deliveries` (streamtop.options), one meaning
("delivered more than N times") and one default, in the pending list's marks, `D`'s default, the
`deadletter` command, every `--help`, the docs (docs/commands.md, the README) and the demo (its dashboard
and its workload).
Before, the demo's dashboard marked poison at more than 3 and `D` offered 3, while `--help` and the
README said 5."""

from __future__ import annotations

import re
from pathlib import Path

from streamtop import cli
from streamtop.commands.deadletter import DEFAULT_MIN_DELIVERIES
from streamtop.commands.demo import demo_dashboard_options
from streamtop.demo.workload import Lifecycle
from streamtop.options import DASHBOARD_DEFAULTS

N = DASHBOARD_DEFAULTS.poison_deliveries
ROOT = Path(__file__).parents[2]
COMMANDS_MD = (ROOT / "docs" / "commands.md").read_text()
README = (ROOT / "README.md").read_text()


def test_the_demo_marks_poison_what_its_workload_gives_up_on_with_the_one_default():
    args = cli.build_parser("demo").parse_args([])
    life = Lifecycle(poison_deliveries=args.poison_deliveries)
    assert life.poison_deliveries == N == Lifecycle().poison_deliveries
    assert demo_dashboard_options(args, life).poison_deliveries == N  # marks and `D`'s default


def test_a_demo_poison_setting_is_the_same_number_on_its_dashboard():
    args = cli.build_parser("demo").parse_args(["--poison-deliveries", "9"])
    life = Lifecycle(poison_deliveries=args.poison_deliveries)
    assert demo_dashboard_options(args, life).poison_deliveries == 9


def test_every_help_and_the_docs_say_the_one_default():
    for name in (None, "demo", "web"):
        text = " ".join(cli.build_parser(name).format_help().split())
        assert re.search(rf"more than N times \(default {N}\b", text), (name, text)
    assert DEFAULT_MIN_DELIVERIES == N + 1  # deadletter --min-deliveries: at least N+1 is more than N
    text = " ".join(cli.build_parser("deadletter").format_help().split())
    assert f"default {N + 1}" in text and f"--poison-deliveries {N}" in text
    assert f"`--poison-deliveries N` (default {N})" in COMMANDS_MD
    assert f"`--min-deliveries {N + 1}`" in COMMANDS_MD and f"`--poison-deliveries {N}`" in COMMANDS_MD
    assert f"`--poison-deliveries` times, default {N})" in README
    for text in (README, COMMANDS_MD):
        assert not re.search(r"At its \d+th delivery", text)
