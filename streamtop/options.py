"""The knobs of a poll and of the dashboard, each with its default written once.

The command line (cliargs, cli, demo), the dashboard, `status` and the tests all take their defaults
from these two dataclasses, so `--help`, the docs and the code cannot disagree. Plain data: this
module imports nothing of streamtop, so every layer may use it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class PollOptions:
    """How a collector polls: one value handed from the command line down to every node's
    collector, instead of one keyword per knob at every layer."""

    max_streams: int = 1000  # streams watched at most (the header says when the cap is hit)
    discovery_interval: float = 5.0  # seconds between two SCANs for streams
    estimate_cap: int = 1000  # entries a bounded XRANGE lag estimate counts at most
    estimate_interval: float = 5.0  # seconds a large estimate is kept (0: count every poll)
    timeout: float = 30.0  # seconds for one poll's whole round trip
    # the dashboard's share of the server's time it may take (per cent, INFO commandstats of its own
    # commands): the off-screen cadence, then the visible one, stretch to stay within it (cadence.py)
    max_server_load: float = 2.0
    full_poll: bool = False  # every stream in full every poll, as before issue 17 (status always is)
    summary_period: float = 5.0  # seconds within which every off-screen summary is read again

    def __post_init__(self) -> None:
        if self.max_streams < 1:
            raise ValueError("--max-streams must be at least 1")


@dataclass(frozen=True, slots=True)
class DashboardOptions:
    """What `streamtop` (and `streamtop demo`) run the dashboard with, apart from the server."""

    targets: tuple[str, ...] = ()  # stream keys or glob patterns; none: every stream
    interval: float = 1.0  # seconds between polls
    stuck_after: float = 60.0  # seconds idle before a pending entry counts as stuck
    poison_deliveries: int = 5  # deliveries above which a pending entry counts as poison
    read_only: bool = False  # every change to the server is refused, in the actions layer
    decode: tuple[str, ...] = ()  # --decode KEY=FORMAT or FORMAT, as given (streamtop.pipeline.decode)
    window_ms: int = 60_000  # the polls each group's health verdict looks at (health.py)
    poll: PollOptions = field(default_factory=PollOptions)

    @property
    def stuck_ms(self) -> int:
        return round(self.stuck_after * 1000)

    @property
    def decode_spec(self) -> tuple[tuple[bytes | None, str], ...]:
        """--decode as (stream key or None for every stream, format) pairs; the values were checked
        by the parser (streamtop.pipeline.decode.parse_decode_arg)."""
        out = []
        for value in self.decode:
            key, sep, fmt = value.rpartition("=")
            out.append((key.encode("utf-8", "surrogateescape") if sep else None, fmt))
        return tuple(out)

    def session(self) -> SessionOptions:
        """The dashboard's session: what the screen shows is read in full, the rest as summaries."""
        return SessionOptions(
            targets=self.targets,
            poll=self.poll,
            read_only=self.read_only,
            interval=self.interval,
            window=self.window_ms / 1000,
            follow_screen=True,
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace, **overrides: Any) -> DashboardOptions:
        """From parsed options; an option the parser does not have (the demo has no
        --stuck-after) keeps its default. `overrides` win over both."""
        given = {
            f.name: getattr(args, f.name)
            for f in fields(cls)
            if f.name != "poll" and getattr(args, f.name, None) is not None
        }
        for name in ("targets", "decode"):
            if name in given:
                given[name] = tuple(given[name])
        poll = {
            f.name: getattr(args, f.name)
            for f in fields(PollOptions)
            if getattr(args, f.name, None) is not None
        }
        return cls(**{**given, "poll": PollOptions(**poll), **overrides})


DASHBOARD_DEFAULTS = DashboardOptions()
POLL_DEFAULTS = DASHBOARD_DEFAULTS.poll


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How a session (streamtop.monitor.Monitor) polls and guards, given once to its constructor:
    the dashboard, the demo, `serve`, `record` and `web` each build one, nothing is set afterwards.
    The interval alone changes while it runs, through `Monitor.set_interval` (the one place that
    holds it)."""

    targets: tuple[str | bytes, ...] = ()  # stream keys or glob patterns; none: every stream
    poll: PollOptions = POLL_DEFAULTS
    read_only: bool = False  # every change to the server is refused, in the actions layer
    interval: float = 1.0  # seconds between polls, at the start
    window: float = 60.0  # seconds of polls the health verdicts look at (health.DEFAULT_WINDOW)
    # issue 17: the dashboard reads in full only what the screen shows (unless --full-poll) ...
    follow_screen: bool = False
    # ... and `serve`, with no screen, every stream in full within the budget
    everything_visible: bool = False
    # seconds a poll may go unanswered before the server counts as not answering; None: the
    # hung-server rule, max(2 x interval, 2 s), following the interval
    answer_timeout: float | None = None


SESSION_DEFAULTS = SessionOptions()


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What `streamtop serve` (the Prometheus exporter) listens on and how often it polls."""

    metrics_port: int = 9121  # redis_exporter's port: a scrape config keeps its target
    bind: str = "127.0.0.1"  # loopback only unless --bind says otherwise (then a warning)
    interval: float = 5.0  # seconds at least between polls: a scrape polls when the page is older


SERVE_DEFAULTS = ServeOptions()
