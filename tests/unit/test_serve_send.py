"""serve's HTTP server sends a page as it is, in parts (issue 29: a page copied behind its head,
then into the transport's buffer for a scraper that does not take it at once, was a 2.5 MB copy
or two per scrape at 2,000 streams, kept by the allocator): a page larger than a part arrives
whole, gzipped or not, twice on one kept-alive connection; HEAD says its length and sends nothing.
No Redis: a page of our own."""

from __future__ import annotations

import gzip
import http.client
import os

from streamtop.serve import http as metrics_http
from streamtop.serve.http import listen, stop


class Page:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def gzipped(self) -> bytes:
        return gzip.compress(self.body)


class Source:
    def __init__(self, page: Page) -> None:
        self._page = page

    def page(self) -> Page:
        return self._page

    def demand(self) -> None:
        return None


def test_a_page_of_many_parts_arrives_whole_plain_gzipped_and_twice_on_one_connection():
    body = os.urandom(3 * metrics_http.SEND_CHUNK + 1234).hex().encode()  # 8 parts and a bit
    httpd, thread = listen(0, "127.0.0.1", Source(Page(body)))
    conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port, timeout=10)
    try:
        for _ in range(2):  # the same connection: the parts leave it ready for the next request
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() == body
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        assert resp.getheader("Content-Encoding") == "gzip"
        assert gzip.decompress(resp.read()) == body
        conn.request("HEAD", "/metrics")
        resp = conn.getresponse()
        assert resp.getheader("Content-Length") == str(len(body)) and resp.read() == b""
        conn.request("GET", "/metrics")
        assert conn.getresponse().read() == body  # a HEAD's reply left nothing behind
    finally:
        conn.close()
        stop(httpd, thread)
