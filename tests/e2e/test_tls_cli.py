"""TLS on the real console script: an unverified server is refused in one line; --insecure,
--cacert and --sni work as documented (the `tls` fixture: tests/support/tls.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "streamtop"


def test_without_cacert_the_system_store_is_used(tls):
    """No --cacert: the system CA store, which OpenSSL reads from SSL_CERT_FILE when it is set.
    With our CA as that store, the real console script connects; without it, it refuses."""
    args = ("status", "--json", "--url", tls.url("ca"))
    proc = _run(*args, env={"SSL_CERT_FILE": tls.file("ca.crt")})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["server"]["url"] == f"rediss://127.0.0.1:{tls.ports['ca']}/0"
    proc = _run(*args, env={"SSL_CERT_FILE": tls.file("other.crt")})
    assert proc.returncode == 1 and "could not be verified" in proc.stderr


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The console script, without the caller's REDIS_URL and REDISCLI_AUTH; `env` added."""
    env = {**{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")}, **(env or {})}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL
    )


@pytest.mark.parametrize("cmd", [["status"], []])
def test_cli_refuses_an_unverified_server_in_one_line(tls, cmd):
    """`streamtop status` and the dashboard itself fail fast, one line, exit 1."""
    proc = _run(*cmd, "--tls", "-p", str(tls.ports["self"]))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "could not be verified" in lines[0] and "--cacert" in lines[0] and "--insecure" in lines[0]


def test_cli_insecure_and_cacert_and_sni(tls):
    assert _run("status", "--json", "--tls", "--insecure", "-p", str(tls.ports["self"])).returncode == 0
    assert (
        _run(
            "status",
            "--json",
            "--url",
            tls.url("other"),
            "--cacert",
            tls.file("ca.crt"),
            "--sni",
            "other.example",
        ).returncode
        == 0
    )
    proc = _run("status", "--url", tls.url("other"), "--cacert", tls.file("ca.crt"))
    assert proc.returncode == 1 and "mismatch" in proc.stderr and "--sni" in proc.stderr
