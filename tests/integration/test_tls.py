"""TLS verifies by default, as redis-cli: real Redis 7.0 servers (Debian's build, the only one with
TLS) on 127.0.0.1 with certificates made here by the `openssl` CLI.

The servers: `ca` (signed by a private CA, SANs IP:127.0.0.1 and DNS:localhost), `other` (same CA,
SAN DNS:other.example only), `self` (self-signed for 127.0.0.1) and `mtls` (as `ca`, but it requires
a client certificate). Each also listens on a plain port, only to tell when it is ready.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from rich.text import Text

from streamtop.connection import ConfigError, ConnectError, ConnectionSpec, build_spec, connect
from streamtop.embedded import ServerUnavailable, free_port, start_server

SCRIPT = Path(sys.executable).parent / "streamtop"


@dataclasses.dataclass
class TLSServers:
    certs: Path
    ports: dict[str, int]

    def url(self, name: str) -> str:
        return f"rediss://127.0.0.1:{self.ports[name]}/0"

    def file(self, name: str) -> str:
        return str(self.certs / name)


def _openssl(d: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)


def _make_certs(d: Path) -> None:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(d, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=streamtop test CA")

    def signed(name: str, san: str, cn: str) -> None:
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
        _openssl(d, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        _openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")

    signed("srv", "IP:127.0.0.1,DNS:localhost", "127.0.0.1")
    signed("other", "DNS:other.example", "other.example")
    signed("client", "", "streamtop client")
    _openssl(d, "req", "-x509", *ec, "-keyout", "self.key", "-out", "self.crt", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("the openssl CLI is not installed (it makes the test certificates)")
    d = tmp_path_factory.mktemp("certs")
    _make_certs(d)
    layout = {"ca": ("srv", "no"), "other": ("other", "no"), "self": ("self", "no"),
              "mtls": ("srv", "yes")}
    servers, ports = [], {}
    try:
        for name, (cert, auth_clients) in layout.items():
            port = free_port()
            try:
                srv = start_server("redis-7.0", extra_args=[
                    "--tls-port", str(port), "--tls-cert-file", str(d / f"{cert}.crt"),
                    "--tls-key-file", str(d / f"{cert}.key"), "--tls-ca-cert-file", str(d / "ca.crt"),
                    "--tls-auth-clients", auth_clients])
            except ServerUnavailable as exc:
                pytest.skip(f"redis-7.0 not available: {exc}")
            except RuntimeError as exc:
                pytest.skip(f"redis-server did not start with TLS (a build without TLS?): {exc}")
            servers.append(srv)
            ports[name] = port
        yield TLSServers(d, ports)
    finally:
        for srv in servers:
            srv.cleanup()


async def _refused(spec: ConnectionSpec) -> str:
    with pytest.raises(ConnectError) as info:
        await connect(spec)
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


async def _accepted(spec: ConnectionSpec) -> None:
    client, info = await connect(spec)
    try:
        assert (info.name, info.version[:4]) == ("redis", "7.0.")
        assert await client.execute_command("PING") in (b"PONG", True, "PONG")
    finally:
        await client.aclose()


def _assert_unverified(msg: str, port: int) -> None:
    assert msg.startswith(f"the TLS certificate of 127.0.0.1:{port} could not be verified"), msg
    assert "--cacert" in msg and "--insecure" in msg, msg


# the certificate chain --------------------------------------------------------------------------

async def test_self_signed_certificate_is_refused(tls):
    msg = await _refused(build_spec(url=tls.url("self"), env={}))
    _assert_unverified(msg, tls.ports["self"])
    assert "self-signed" in msg or "self signed" in msg


async def test_private_ca_refused_without_cacert_and_accepted_with_it(tls):
    msg = await _refused(build_spec(url=tls.url("ca"), env={}))
    _assert_unverified(msg, tls.ports["ca"])
    assert "mismatch" not in msg  # the chain, not the name: the system store lacks our CA
    await _accepted(build_spec(url=tls.url("ca"), cacert=tls.file("ca.crt"), env={}))


async def test_cacert_of_another_ca_is_refused(tls):
    """--cacert trusts that CA only: the self-signed cert given as the CA of the `ca` server."""
    msg = await _refused(build_spec(url=tls.url("ca"), cacert=tls.file("self.crt"), env={}))
    _assert_unverified(msg, tls.ports["ca"])


def test_without_cacert_the_system_store_is_used(tls):
    """No --cacert: the system CA store, which OpenSSL reads from SSL_CERT_FILE when it is set.
    With our CA as that store, the real console script connects; without it, it refuses."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")}
    cmd = [str(SCRIPT), "status", "--json", "--url", tls.url("ca")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**env, "SSL_CERT_FILE": tls.file("ca.crt")})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["server"]["url"] == f"rediss://127.0.0.1:{tls.ports['ca']}/0"
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**env, "SSL_CERT_FILE": tls.file("other.crt")})
    assert proc.returncode == 1 and "could not be verified" in proc.stderr


# the name in the certificate ----------------------------------------------------------------------

async def test_ip_host_is_checked_against_the_ip_san(tls):
    await _accepted(build_spec(url=tls.url("ca"), cacert=tls.file("ca.crt"), env={}))
    msg = await _refused(build_spec(url=tls.url("other"), cacert=tls.file("ca.crt"), env={}))
    _assert_unverified(msg, tls.ports["other"])
    assert "mismatch" in msg and "--sni" in msg


async def test_sni_names_the_certificate_to_expect(tls):
    await _accepted(build_spec(url=tls.url("other"), cacert=tls.file("ca.crt"), sni="other.example",
                               env={}))
    msg = await _refused(build_spec(url=tls.url("other"), cacert=tls.file("ca.crt"),
                                    sni="wrong.example", env={}))
    _assert_unverified(msg, tls.ports["other"])
    assert "wrong.example" in msg
    await _accepted(build_spec(url=tls.url("ca"), cacert=tls.file("ca.crt"), sni="localhost", env={}))


def test_sync_client_verifies_the_same_way(tls):
    """The blocking client (the demo's workload and scripts) refuses and accepts alike."""
    spec = build_spec(url=tls.url("other"), cacert=tls.file("ca.crt"), env={})
    with spec.make_sync_client() as c, pytest.raises(redis.ConnectionError, match="mismatch"):
        c.ping()
    with dataclasses.replace(spec, sni="other.example").make_sync_client() as c:
        assert c.ping() is True
    with build_spec(url=tls.url("self"), env={}).make_sync_client() as c, \
            pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        c.ping()


async def test_client_certificate_is_sent(tls):
    base = build_spec(url=tls.url("mtls"), cacert=tls.file("ca.crt"), env={})
    msg = await _refused(base)
    assert "could not be verified" not in msg  # our side was fine: the server wanted a cert
    await _accepted(build_spec(url=tls.url("mtls"), cacert=tls.file("ca.crt"),
                               cert=tls.file("client.crt"), key=tls.file("client.key"), env={}))


# --insecure ------------------------------------------------------------------------------------

async def test_insecure_accepts_any_certificate(tls):
    for name in ("self", "ca", "other"):
        await _accepted(build_spec(url=tls.url(name), insecure=True, env={}))


def test_insecure_and_sni_need_tls():
    for kw in (dict(insecure=True), dict(sni="x.example")):
        with pytest.raises(ConfigError, match="TLS only"):
            build_spec(url="redis://127.0.0.1:1", env={}, **kw)
    with pytest.raises(ConfigError, match="server name"):
        build_spec(url="rediss://127.0.0.1:1", sni=" ", env={})


def _header(app) -> Text:
    return app.w("header").render()


def _badge(text: Text) -> str | None:
    """The style of the INSECURE TLS badge in the header, or None when there is none."""
    start = text.plain.find("INSECURE TLS")
    if start < 0:
        return None
    return " ".join(str(s.style) for s in text.spans if s.start <= start < s.end)


async def test_insecure_dashboard_header_is_marked(tls):
    from streamtop.monitor import Monitor
    from streamtop.options import PollOptions
    from streamtop.ui.app import StreamtopApp
    from tests.support.ui import SIZE
    from tests.support.waiting import until

    for spec, marked in ((build_spec(url=tls.url("self"), insecure=True, env={}), True),
                         (build_spec(url=tls.url("ca"), cacert=tls.file("ca.crt"), env={}), False)):
        app = StreamtopApp(Monitor(spec, options=PollOptions(discovery_interval=0.2)), interval=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.snapshot is not None, what="first poll")  # noqa: B023
            await pilot.pause()
            header = _header(app)
            assert "LIVE" in header.plain
            style = _badge(header)
            if marked:
                assert style is not None and "dark_orange" in style, header.plain
            else:
                assert style is None, header.plain


# the real console script ----------------------------------------------------------------------------

def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60, env=env,
                          stdin=subprocess.DEVNULL)


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
    assert _run("status", "--json", "--url", tls.url("other"), "--cacert", tls.file("ca.crt"),
                "--sni", "other.example").returncode == 0
    proc = _run("status", "--url", tls.url("other"), "--cacert", tls.file("ca.crt"))
    assert proc.returncode == 1 and "mismatch" in proc.stderr and "--sni" in proc.stderr


async def test_plain_client_on_a_tls_port(tls):
    msg = await _refused(build_spec(url=f"redis://127.0.0.1:{tls.ports['ca']}", env={}))
    assert msg.startswith(f"connection to 127.0.0.1:{tls.ports['ca']} failed") and "--tls" in msg
