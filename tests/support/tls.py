"""The `tls` fixture (session-wide, registered in tests/conftest.py): real Redis 7.0 servers
(Debian's build, the only one with TLS) on 127.0.0.1 with certificates made here by the `openssl` CLI.

The servers: `ca` (signed by a private CA, SANs IP:127.0.0.1 and DNS:localhost), `other` (same CA,
SAN DNS:other.example only), `self` (self-signed for 127.0.0.1) and `mtls` (as `ca`, but it requires
a client certificate). Each also listens on a plain port, only to tell when it is ready.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from streamtop.embedded import ServerUnavailable, free_port, start_server


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
    _openssl(
        d,
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=streamtop test CA",
    )

    def signed(name: str, san: str, cn: str) -> None:
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
        _openssl(d, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        _openssl(
            d,
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.crt",
            "-days",
            "2",
            "-extfile",
            f"{name}.ext",
        )

    signed("srv", "IP:127.0.0.1,DNS:localhost", "127.0.0.1")
    signed("other", "DNS:other.example", "other.example")
    signed("client", "", "streamtop client")
    _openssl(
        d,
        "req",
        "-x509",
        *ec,
        "-keyout",
        "self.key",
        "-out",
        "self.crt",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    )


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("the openssl CLI is not installed (it makes the test certificates)")
    d = tmp_path_factory.mktemp("certs")
    _make_certs(d)
    layout = {"ca": ("srv", "no"), "other": ("other", "no"), "self": ("self", "no"), "mtls": ("srv", "yes")}
    servers, ports = [], {}
    try:
        for name, (cert, auth_clients) in layout.items():
            port = free_port()
            try:
                srv = start_server(
                    "redis-7.0",
                    extra_args=[
                        "--tls-port",
                        str(port),
                        "--tls-cert-file",
                        str(d / f"{cert}.crt"),
                        "--tls-key-file",
                        str(d / f"{cert}.key"),
                        "--tls-ca-cert-file",
                        str(d / "ca.crt"),
                        "--tls-auth-clients",
                        auth_clients,
                    ],
                )
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
