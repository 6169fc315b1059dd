"""Running the action commands in process (`cli.main`) against a real server, for the tests of
streamtop.commands: the exit code, stdout and stderr of one run."""

from __future__ import annotations

import json


def run(srv, capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli_main([*argv, "--url", srv.url])
    except SystemExit as exc:  # argparse refuses an option: one line, exit 1
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def cli_main(argv: list[str]) -> int:
    from streamtop import cli

    return cli.main(argv)


def one_json(out: str) -> dict:
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0])
