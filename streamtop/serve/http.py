"""The /metrics HTTP server: a WSGI app that sends the last poll's page, on a threading wsgiref
server.

Ours rather than prometheus_client.start_http_server, for two reasons measured here: its WSGI app
writes the exposition again on every scrape (0.8 s at 1,000 streams; here a page is written once
per poll and every scrape sends those bytes, gzipped once when a scraper asks for gzip, as
Prometheus does), and its server keeps socketserver's listen backlog of 5, so 50 scrapers
connecting at once had their SYNs dropped and retried after a second (50 concurrent scrapes of a
20-stream page: 1.9 s instead of 0.24 s). The backlog here is 128; each request gets a daemon
thread; nothing is logged per request.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .exposition import CONTENT_TYPE

BACKLOG = 128  # connections the kernel queues before accept: many scrapers at once
SHUTDOWN_POLL = 0.1  # seconds serve_forever() takes to notice shutdown()


class PageLike(Protocol):
    body: bytes

    def gzipped(self) -> bytes: ...


class Source(Protocol):
    """What the server asks for each scrape (poller.Exporter)."""

    def page(self) -> PageLike: ...


def metrics_app(source: Source) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """GET anything but /favicon.ico: the current page (gzip when the scraper accepts it)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/favicon.ico":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        page = source.page()
        headers = [("Content-Type", CONTENT_TYPE)]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            body = page.gzipped()
            headers.append(("Content-Encoding", "gzip"))
        else:
            body = page.body
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [body]

    return app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No line per scrape on stderr."""


class MetricsServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = BACKLOG


def listen(port: int, bind: str, source: Source) -> tuple[MetricsServer, threading.Thread]:
    """Serve `source`'s pages on bind:port (port 0: a free one, see server_port) from a daemon
    thread."""

    class Server(MetricsServer):
        address_family = socket.AF_INET6 if ipaddress.ip_address(bind).version == 6 else socket.AF_INET

    httpd = make_server(bind, port, metrics_app(source), Server, handler_class=_Quiet)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True, name="metrics"
    )
    thread.start()
    return httpd, thread


def stop(httpd: MetricsServer, thread: threading.Thread) -> None:
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)
