"""`streamtop status` as a real process: exit codes, one-line errors, and no colour codes in a pipe
(NO_COLOR and FORCE_COLOR as documented)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.support.streams import arrange_orders

COLOUR_PARAMS = {str(n) for n in [*range(30, 39), *range(40, 49), *range(90, 98), *range(100, 108)]}


def colour_codes(text: str) -> list[str]:
    """SGR sequences that set a colour (bold and the like are allowed under NO_COLOR)."""
    return [m for m in re.findall(r"\x1b\[([0-9;]*)m", text) if set(m.split(";")) & COLOUR_PARAMS]


def run_process(srv, *argv: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {
        k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS")
    } | env
    return subprocess.run(
        [sys.executable, "-m", "streamtop", "status", "--url", srv.url, *argv],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def test_process_exit_codes_and_no_colour_in_a_pipe(server, r):
    arrange_orders(r)
    ok = run_process(server, "--max-pending", "3")
    assert ok.returncode == 0 and "OK: every threshold holds" in ok.stdout and ok.stderr == ""
    bad = run_process(server, "--max-pending", "2")
    assert bad.returncode == 2 and "orders group g1: pending 3 > 2" in bad.stdout
    assert "\x1b[" not in bad.stdout  # a pipe gets plain text
    assert colour_codes(run_process(server, "--max-pending", "2", FORCE_COLOR="1").stdout)  # the check bites
    no_colour = run_process(server, "--max-pending", "2", FORCE_COLOR="1", NO_COLOR="1")
    assert no_colour.returncode == 2 and colour_codes(no_colour.stdout) == []
    assert "pending 3 > 2" in no_colour.stdout and "3 !" in no_colour.stdout  # marked without colour
    js = run_process(server, "--json", "--max-lag", "0")
    assert js.returncode == 2 and json.loads(js.stdout)["breaches"][0]["metric"] == "lag"


def test_process_unreachable_and_bad_value(own_server):
    url = own_server.url
    own_server.cleanup()
    down = subprocess.run(
        [sys.executable, "-m", "streamtop", "status", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 1 and down.stdout == "" and down.stderr.count("\n") == 1
    bad = subprocess.run(
        [sys.executable, "-m", "streamtop", "status", "--url", url, "--max-lag", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "--max-lag" in bad.stderr and bad.stderr.count("\n") == 1
