"""Bad input on the real console script: one line on stderr naming what is wrong, exit code 1, no
traceback, and never the password. `streamtop status` connects and exits, so it carries the
connection errors; the dashboard command shares the option parsing."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from streamtop.embedded import free_port, start_server

SECRET = "cli-S3cret-pw"
SCRIPT = Path(sys.executable).parent / "streamtop"
HAS_STATUS = importlib.util.find_spec("streamtop.status") is not None
needs_status = pytest.mark.skipif(not HAS_STATUS, reason="streamtop/status.py does not exist yet")


def run(*args: str, env: dict[str, str] | None = None, module: bool = False) -> subprocess.CompletedProcess:
    use_module = module or not SCRIPT.exists()
    cmd = [sys.executable, "-m", "streamtop", *args] if use_module else [str(SCRIPT), *args]
    full_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")}
    full_env.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=60,
                          stdin=subprocess.DEVNULL)


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
@pytest.mark.parametrize(("args", "words"), [
    (["--url", "http://127.0.0.1:6379"], ["unknown URL scheme 'http'"]),
    (["--url", f"ftp://u:{SECRET}@h"], ["unknown URL scheme 'ftp'"]),
    (["--url", f"//:{SECRET}@h:1"], ["no scheme"]),
    (["-p", "70000"], ["port 70000", "out of range"]),
    (["-p", "0"], ["port 0", "out of range"]),
    (["--url", "redis://127.0.0.1:99999"], ["port 99999", "out of range"]),
])
def test_bad_options(args, words):
    assert_one_line_error(run("status", *args), *words)


@needs_status
def test_connection_refused():
    port = free_port()
    line = assert_one_line_error(run("status", "-p", str(port), "-a", SECRET))
    assert f"127.0.0.1:{port}" in line and "refused" in line and "streamtop demo" in line


@pytest.fixture(scope="module")
def auth_server():
    srv = start_server("valkey-9.1", extra_args=["--requirepass", SECRET])
    with redis.Redis(host=srv.host, port=srv.port, password=SECRET) as c:
        c.execute_command("ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "+@all")
    yield srv
    srv.cleanup()


@needs_status
@pytest.mark.parametrize(("args", "env", "words"), [
    (["-a", SECRET + "x"], {}, ["authentication failed", "default user", "wrong password"]),
    ([], {"REDISCLI_AUTH": SECRET + "x"}, ["authentication failed"]),
    (["--user", "nobody", "-a", SECRET], {}, ["authentication failed", "'nobody'"]),
    (["--user", "alice", "-a", SECRET], {}, ["authentication failed", "'alice'"]),
    ([], {}, ["requires a password"]),
])
def test_auth_failures(auth_server, args, env, words):
    line = assert_one_line_error(run("status", "-p", str(auth_server.port), *args, env=env), *words)
    assert f"127.0.0.1:{auth_server.port}" in line


@needs_status
def test_auth_url_password_is_not_printed(auth_server):
    url = f"redis://:{SECRET}wrong@127.0.0.1:{auth_server.port}/0"
    assert_one_line_error(run("status", "--url", url), "authentication failed")


@needs_status
def test_right_password_works(auth_server):
    proc = run("status", "--json", "-p", str(auth_server.port), env={"REDISCLI_AUTH": SECRET})
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


@needs_status
def test_tls_against_a_plain_server(server):
    line = assert_one_line_error(run("status", "--tls", "-p", str(server.port)))
    assert "TLS" in line and f"127.0.0.1:{server.port}" in line
