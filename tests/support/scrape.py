"""An in-process `streamtop serve` for the tests: the real Monitor, Exporter and HTTP server on a
free loopback port, polled by hand (`await exp.poll()`), scraped over HTTP and parsed with
prometheus_client's own parser. And the reference rendering: the same families as prometheus_client
objects (`to_metrics`, `FamiliesCollector` for a registry), which streamtop does not use at run time
(tests/unit/test_serve_metrics.py compares the two pages; bench/serve_metrics.py times its server)."""

from __future__ import annotations

import dataclasses
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from streamtop.options import PollOptions
from streamtop.pipeline.connection import ConnectionSpec, build_spec
from streamtop.serve.exposition import Family
from streamtop.serve.http import listen, stop
from streamtop.serve.metrics import ALL_TIERS
from streamtop.serve.poller import Exporter, serve_options, serve_session

Labels = frozenset[tuple[str, str]]


def to_metrics(families: list[Family]) -> list[Metric]:
    """The same families as prometheus_client objects."""
    metrics: list[Metric] = []
    for fam in families:
        m = (
            CounterMetricFamily(fam.name, fam.doc, labels=list(fam.labels))
            if fam.counter
            else GaugeMetricFamily(fam.name, fam.doc, labels=list(fam.labels))
        )
        for values, value in fam.samples:
            m.add_metric(list(values), value)
        metrics.append(m)
    return metrics


class FamiliesCollector(Collector):
    """A prometheus_client collector over `get()`'s families (an Exporter's last page, say): what a
    registry, generate_latest or start_http_server would serve of them."""

    def __init__(self, get: Callable[[], list[Family]]) -> None:
        self.get = get

    def describe(self) -> list[Metric]:
        return []  # without this, registering would call collect()

    def collect(self) -> Iterator[Metric]:
        return iter(to_metrics(self.get()))


def labels(**kw: str) -> Labels:
    return frozenset(kw.items())


@dataclass
class Scrape:
    """One /metrics page: the raw text, and sample name -> {labels: value}."""

    text: str
    samples: dict[str, dict[Labels, float]] = field(default_factory=dict)
    label_names: dict[str, set[frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Scrape:
        out = cls(text)
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                out.samples.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
                out.label_names.setdefault(s.name, set()).add(frozenset(s.labels))
        return out

    def value(self, name: str, **kw: str) -> float | None:
        return self.samples.get(name, {}).get(labels(**kw))

    def names(self) -> set[str]:
        return set(self.samples)


class Served:
    """Monitor + Exporter + HTTP server; `close()` stops the server and the clients."""

    def __init__(
        self,
        spec: ConnectionSpec,
        targets=(),
        interval: float = 1.0,
        cap: int | None = None,
        answer_timeout: float | None = None,
        tiers: frozenset[str] = ALL_TIERS,  # every family: the tests of each family's values
        **poll,
    ) -> None:
        options = serve_options(targets, PollOptions(**poll), interval)
        self.monitor = serve_session(spec, dataclasses.replace(options, answer_timeout=answer_timeout))
        self.logged: list[str] = []
        self.exporter = Exporter(self.monitor, spec.db, cap=cap, log=self.logged.append, tiers=tiers)
        self.httpd, self.thread = listen(0, "127.0.0.1", self.exporter)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/metrics"

    @classmethod
    def on(cls, srv, targets=(), **kw) -> Served:
        return cls(build_spec(url=srv.url), targets, **kw)

    async def poll(self):
        return await self.exporter.poll_once()

    def scrape_text(self) -> str:
        with urllib.request.urlopen(self.url, timeout=10) as resp:
            return resp.read().decode("utf-8")

    def scrape(self) -> Scrape:
        return Scrape.parse(self.scrape_text())

    async def close(self) -> None:
        stop(self.httpd, self.thread)
        await self.monitor.close()
