"""`streamtop --attach` and the hub's options as real processes: bad input is one line and exit 1
(issue 31)."""

from __future__ import annotations

import pytest

from tests.support.console import one_line_error
from tests.support.console import streamtop as attach


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--attach", "ftp://hub:1"], ["--attach", "http://"]),
        (["--attach", "http://127.0.0.1:1", "--token-file", "/nonexistent/token"], ["--token-file"]),
        (["--attach", "http://127.0.0.1:1", "orders:*"], ["--attach", "the hub's"]),  # was ignored
    ],
)
def test_bad_attach_input_is_one_line(args, words):
    one_line_error(attach(*args), *words)


def test_a_short_token_file_is_refused(server, tmp_path):
    token = tmp_path / "token"
    token.write_text("short\n")
    proc = attach("serve", "--url", server.url, "--metrics-port", "0", "--token-file", str(token))
    one_line_error(proc, "--token-file", "16 characters")
