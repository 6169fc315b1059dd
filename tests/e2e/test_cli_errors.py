"""Bad input on the real console script: one line on stderr naming what is wrong, exit code 1, no
traceback, and never the password. `streamtop status` connects and exits, so it carries the
connection errors; the dashboard command shares the option parsing."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from streamtop.embedded import free_port, start_server

SECRET = "cli-S3cret-pw"
SCRIPT = Path(sys.executable).parent / "streamtop"
HAS_STATUS = importlib.util.find_spec("streamtop.commands.status") is not None
needs_status = pytest.mark.skipif(not HAS_STATUS, reason="streamtop/commands/status.py does not exist yet")


def run(*args: str, env: dict[str, str] | None = None, module: bool = False) -> subprocess.CompletedProcess:
    use_module = module or not SCRIPT.exists()
    cmd = [sys.executable, "-m", "streamtop", *args] if use_module else [str(SCRIPT), *args]
    full_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")}
    full_env.update(env or {})
    return subprocess.run(
        cmd, capture_output=True, text=True, env=full_env, timeout=60, stdin=subprocess.DEVNULL
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out and SECRET not in out
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("module", [False, True])
@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_max_streams_must_be_positive(value, module):
    assert_one_line_error(run("--max-streams", value, module=module), "--max-streams", value)


@needs_status
@pytest.mark.parametrize("value", ["0", "-5"])
def test_status_max_streams_must_be_positive(value):
    assert_one_line_error(run("status", "--max-streams", value), "--max-streams", value)


@needs_status
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--url", "http://127.0.0.1:6379"], ["unknown URL scheme 'http'"]),
        (["--url", f"ftp://u:{SECRET}@h"], ["unknown URL scheme 'ftp'"]),
        (["--url", f"//:{SECRET}@h:1"], ["no scheme"]),
        (["-p", "70000"], ["-p/--port", "port must be at most 65,535, got 70,000"]),
        (["-p", "0"], ["-p/--port", "port must be at least 1, got 0"]),
        (["--url", "redis://127.0.0.1:99999"], ["port 99999", "out of range"]),
    ],
)
def test_bad_options(args, words):
    assert_one_line_error(run("status", *args), *words)


@needs_status
def test_connection_refused():
    port = free_port()
    line = assert_one_line_error(run("status", "-p", str(port), "-a", SECRET, "--no-auth-warning"))
    assert f"127.0.0.1:{port}" in line and "refused" in line and "streamtop demo" in line


@pytest.fixture(scope="module")
def auth_server():
    srv = start_server("valkey-9.1", extra_args=["--requirepass", SECRET])
    with redis.Redis(host=srv.host, port=srv.port, password=SECRET) as c:
        c.execute_command("ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "+@all")
    yield srv
    srv.cleanup()


@needs_status
@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["-a", SECRET + "x"], {}, ["authentication failed", "default user", "wrong password"]),
        ([], {"REDISCLI_AUTH": SECRET + "x"}, ["authentication failed"]),
        (["--user", "nobody", "-a", SECRET], {}, ["authentication failed", "'nobody'"]),
        (["--user", "alice", "-a", SECRET], {}, ["authentication failed", "'alice'"]),
        ([], {}, ["requires a password"]),
    ],
)
def test_auth_failures(auth_server, args, env, words):
    line = assert_one_line_error(
        run("status", "-p", str(auth_server.port), "--no-auth-warning", *args, env=env), *words
    )
    assert f"127.0.0.1:{auth_server.port}" in line


@needs_status
def test_auth_url_password_is_not_printed(auth_server):
    url = f"redis://:{SECRET}wrong@127.0.0.1:{auth_server.port}/0"
    assert_one_line_error(run("status", "--url", url, "--no-auth-warning"), "authentication failed")


# passwords as redis-cli: redis://SECRET@host, the command-line warning, never printed -------------

WARNING = "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe."


@needs_status
@pytest.mark.parametrize("cmd", [["status"], ["status", "--json"], []])
def test_url_with_a_password_only_is_the_password(auth_server, cmd):
    """redis://SECRET@host is the default user's password, as redis-cli reads it; a wrong one is
    reported for the default user and is never printed (the dashboard fails fast the same way)."""
    port = auth_server.port
    line = assert_one_line_error(
        run(*cmd, "--url", f"redis://{SECRET}x@127.0.0.1:{port}/0", "--no-auth-warning"),
        "authentication failed",
        "the default user",
    )
    assert "user '" not in line
    if cmd:
        proc = run(*cmd, "--url", f"redis://{SECRET}@127.0.0.1:{port}/0", "--no-auth-warning")
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        assert SECRET not in proc.stdout and f"127.0.0.1:{port}" in proc.stdout


@needs_status
def test_json_and_table_never_hold_the_password(auth_server):
    for fmt in ([], ["--json"]):
        for how in (
            ["-a", SECRET],
            ["--url", f"redis://:{SECRET}@127.0.0.1:{auth_server.port}/0"],
            ["--url", f"redis://alice:alice-pw@127.0.0.1:{auth_server.port}/0"],
        ):
            proc = run("status", *fmt, "-p", str(auth_server.port), *how)
            assert proc.returncode == 0, proc.stderr
            assert SECRET not in proc.stdout + proc.stderr and "alice-pw" not in proc.stdout + proc.stderr
            if fmt:
                url = json.loads(proc.stdout)["server"]["url"]
                user = "alice@" if "alice" in how[-1] else ""
                assert url == f"redis://{user}127.0.0.1:{auth_server.port}/0"


@needs_status
@pytest.mark.parametrize(
    ("how", "env", "warns"),
    [
        (["-a", SECRET], {}, True),
        (["--password", SECRET], {}, True),
        (["--url", f"redis://:{SECRET}@127.0.0.1:PORT/0"], {}, True),
        (["--url", f"redis://{SECRET}@127.0.0.1:PORT/0"], {}, True),
        (["-u", "redis://alice:alice-pw@127.0.0.1:PORT/0"], {}, True),
        (["-a", SECRET, "--no-auth-warning"], {}, False),
        (["--url", f"redis://:{SECRET}@127.0.0.1:PORT/0", "--no-auth-warning"], {}, False),
        ([], {"REDISCLI_AUTH": SECRET}, False),
        ([], {"REDIS_URL": f"redis://:{SECRET}@127.0.0.1:PORT/0"}, False),
        (["--url", "redis://127.0.0.1:PORT/0"], {"REDISCLI_AUTH": SECRET}, False),
    ],
)
def test_password_on_the_command_line_warns_as_redis_cli(auth_server, how, env, warns):
    port = str(auth_server.port)
    how = [a.replace("PORT", port) for a in how]
    env = {k: v.replace("PORT", port) for k, v in env.items()}
    proc = run("status", "--json", "-p", port, *how, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (WARNING + "\n" if warns else "")
    assert SECRET not in proc.stdout + proc.stderr and "alice-pw" not in proc.stdout + proc.stderr


@needs_status
def test_warning_comes_before_the_error(auth_server):
    proc = run("status", "-p", str(auth_server.port), "-a", SECRET + "x")
    assert proc.returncode == 1
    warning, error = proc.stderr.splitlines()
    assert warning == WARNING and "authentication failed" in error and SECRET not in proc.stderr


# IPv6 addresses are shown in brackets -----------------------------------------------------------


@needs_status
def test_ipv6_address_in_brackets():
    port = free_port()
    line = assert_one_line_error(run("status", "-h", "::1", "-p", str(port)))
    assert f"[::1]:{port}" in line, line


@needs_status
def test_right_password_works(auth_server):
    proc = run("status", "--json", "-p", str(auth_server.port), env={"REDISCLI_AUTH": SECRET})
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


@needs_status
def test_tls_against_a_plain_server(server):
    line = assert_one_line_error(run("status", "--tls", "-p", str(server.port)))
    assert "TLS" in line and f"127.0.0.1:{server.port}" in line
