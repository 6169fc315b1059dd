"""TLS verifies by default, as redis-cli: real Redis 7.0 servers with TLS (the `tls` fixture,
tests/support/tls.py). The console script on them: tests/e2e/test_tls_cli.py.
"""

from __future__ import annotations

import dataclasses

import pytest
import redis
from rich.text import Text

from streamtop.options import SessionOptions
from streamtop.pipeline.connection import ConfigError, ConnectError, ConnectionSpec, build_spec, connect


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


# the name in the certificate ----------------------------------------------------------------------


async def test_ip_host_is_checked_against_the_ip_san(tls):
    await _accepted(build_spec(url=tls.url("ca"), cacert=tls.file("ca.crt"), env={}))
    msg = await _refused(build_spec(url=tls.url("other"), cacert=tls.file("ca.crt"), env={}))
    _assert_unverified(msg, tls.ports["other"])
    assert "mismatch" in msg and "--sni" in msg


async def test_sni_names_the_certificate_to_expect(tls):
    await _accepted(build_spec(url=tls.url("other"), cacert=tls.file("ca.crt"), sni="other.example", env={}))
    msg = await _refused(
        build_spec(url=tls.url("other"), cacert=tls.file("ca.crt"), sni="wrong.example", env={})
    )
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
    with (
        build_spec(url=tls.url("self"), env={}).make_sync_client() as c,
        pytest.raises(redis.ConnectionError, match="certificate verify failed"),
    ):
        c.ping()


async def test_client_certificate_is_sent(tls):
    base = build_spec(url=tls.url("mtls"), cacert=tls.file("ca.crt"), env={})
    msg = await _refused(base)
    assert "could not be verified" not in msg  # our side was fine: the server wanted a cert
    await _accepted(
        build_spec(
            url=tls.url("mtls"),
            cacert=tls.file("ca.crt"),
            cert=tls.file("client.crt"),
            key=tls.file("client.key"),
            env={},
        )
    )


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


@pytest.mark.slow
async def test_insecure_dashboard_header_is_marked(tls):
    from streamtop.monitor import Monitor
    from streamtop.options import PollOptions
    from streamtop.ui.app import StreamtopApp
    from tests.support.ui import SIZE
    from tests.support.waiting import until

    for spec, marked in (
        (build_spec(url=tls.url("self"), insecure=True, env={}), True),
        (build_spec(url=tls.url("ca"), cacert=tls.file("ca.crt"), env={}), False),
    ):
        app = StreamtopApp(
            Monitor(
                spec,
                SessionOptions(poll=PollOptions(discovery_interval=0.2), interval=0.1, follow_screen=True),
            )
        )
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


async def test_plain_client_on_a_tls_port(tls):
    msg = await _refused(build_spec(url=f"redis://127.0.0.1:{tls.ports['ca']}", env={}))
    assert msg.startswith(f"connection to 127.0.0.1:{tls.ports['ca']} failed") and "--tls" in msg
