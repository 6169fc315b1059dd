"""What each poll reads, so that watching costs what is on screen, within a server budget (issue 17).

A person sees 20-40 rows; re-reading 10,000 streams in full every second took a tenth of the
server's core. So every poll reads the rows on screen (and the selection) in full, and the rest as a
summary (XINFO STREAM + XINFO GROUPS: enough to sort and filter by length, lag and pending), each
within `summary_period` seconds, spread over the polls. When what that costs the server (measured,
`LoadMeter`) would exceed the budget, the off-screen period stretches first (up to
`max_summary_period`), then the visible one (the poll interval itself), and the header says so. A
summary is never older than `max_summary_period`, whatever the budget: when the budget cannot be
met at that bound, the header says that instead (issue 24).

Pure: no I/O, no clock of its own. The collector feeds it the keys, what is visible, when each key
was last read and what the polls cost; tests call it with made-up numbers.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import filterfalse

MAX_SUMMARY_PERIOD = 60.0  # seconds: off-screen summaries are never older than this before the
# visible rows start to stretch too
LOAD_WINDOW = 10.0  # seconds of polls the measured load is averaged over
COST_WEIGHT = 0.3  # how much one poll's measured cost moves the running estimate (EWMA)
MAX_JUMP = 4.0  # one poll's sample counts at most this many times the estimate: a single slow
# command of another client inside the bracket, or a stalled round trip, must not stretch for minutes

# commandstats names of what a poll sends, split by what they read: a stream's summary, its groups'
# details, and what every poll costs whatever it reads (the clock, the brackets, the focus pages)
SUMMARY_COMMANDS = frozenset({"xinfo|stream", "xinfo|groups", "xinfo", "xlen"})
DETAIL_COMMANDS = frozenset({"xinfo|consumers", "xpending", "xrange"})
FIXED_COMMANDS = frozenset({"time", "info", "xrevrange"})
OWN_COMMANDS = SUMMARY_COMMANDS | DETAIL_COMMANDS | FIXED_COMMANDS


@dataclass(frozen=True, slots=True)
class Costs:
    """Server microseconds: one stream's summary, one stream's details on top of its summary, and
    each poll's fixed part. The defaults are Valkey 9.1's for a stream of 2 groups x 2 consumers
    (bench/screen_cost.py) until the first polls measure them."""

    summary_us: float = 6.0
    detail_us: float = 12.0
    fixed_us: float = 60.0


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often each part is read: the visible rows every `visible_period` seconds (the poll
    interval, or longer when the budget says so), every off-screen summary within
    `summary_period` seconds (never longer than MAX_SUMMARY_PERIOD). `load` is what those periods
    are predicted to cost (a fraction of one core); `met` False: even the longest periods cost more
    than the budget (the header says so), the periods are the cheapest the bound allows."""

    visible_period: float
    summary_period: float
    interval: float
    load: float = 0.0
    met: bool = True

    @property
    def stretched(self) -> bool:
        """The visible rows are read less often than the interval asks (the header says so)."""
        return self.visible_period > self.interval * 1.001


def cadence(
    budget: float,
    costs: Costs,
    visible: int,
    offscreen: int,
    interval: float,
    summary_period: float,
    max_summary_period: float = MAX_SUMMARY_PERIOD,
) -> Cadence:
    """The periods that keep the server's time taken (fraction `budget` of one core: 0.02 is 2 %)
    within the budget: the visible rows every interval and the summaries every summary_period when
    that fits; else the summaries less often; else the visible rows less often too. Whatever the
    budget, a summary is never older than max_summary_period: a summary is read again within the
    bound minus one visible period (the poll that reads it may come that late), and the visible
    period is at most half the bound. When even that costs more than the budget, `met` is False
    and the periods are the cheapest within the bound."""
    summary_period = max(summary_period, interval)
    bound = max(max_summary_period, summary_period)
    allowed = budget * 1e6  # server usec per second
    visible_us = costs.fixed_us + visible * (costs.summary_us + costs.detail_us)  # per poll
    offscreen_us = offscreen * costs.summary_us  # one full round of the summaries

    def rate(vp: float, sp: float) -> float:
        return visible_us / vp + offscreen_us / sp

    def plan(vp: float, sp: float) -> Cadence:
        used = rate(vp, sp)
        return Cadence(vp, sp, interval, used / 1e6, used <= allowed * (1 + 1e-9))

    if rate(interval, summary_period) <= allowed:
        return plan(interval, summary_period)
    longest = max(summary_period, bound - interval)  # the summaries' period at the interval
    visible_rate = visible_us / interval
    if visible_rate + offscreen_us / longest <= allowed:
        return plan(interval, max(summary_period, offscreen_us / (allowed - visible_rate)))
    if not offscreen:  # serve, or every row on screen: no summary to keep within the bound
        return plan(min(visible_us / allowed if allowed > 0 else math.inf, interval * 1e6), summary_period)
    # the visible rows stretch too; a summary must still be read within the bound, so the longer
    # the visible period, the shorter the summaries' own: the cost is convex in the visible period
    top = max(interval, bound / 2)

    def cost(vp: float) -> float:
        return rate(vp, max(summary_period, bound - vp))

    lo, hi = interval, top
    for _ in range(100):  # the cheapest visible period (ternary search on a convex function)
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if cost(a) <= cost(b):
            hi = b
        else:
            lo = a
    cheapest = (lo + hi) / 2
    if cost(cheapest) > allowed:
        return plan(cheapest, max(summary_period, bound - cheapest))
    lo, hi = interval, cheapest  # the shortest visible period that fits (cost falls on this side)
    for _ in range(100):
        mid = (lo + hi) / 2
        if cost(mid) <= allowed:
            hi = mid
        else:
            lo = mid
    return plan(hi, max(summary_period, bound - hi))


@dataclass(frozen=True, slots=True)
class PollPlan:
    """What one poll reads: `details` in full, `summaries` as XINFO STREAM + XINFO GROUPS only;
    every other key keeps what an earlier poll read."""

    details: tuple[bytes, ...]
    summaries: tuple[bytes, ...]


def plan_poll(
    keys: Sequence[bytes],
    visible: Collection[bytes],
    read_at: Mapping[bytes, float],
    plan: Cadence,
    spacing: float | None = None,
    now: float | None = None,
    bound: float | None = None,
) -> PollPlan:
    """The visible keys in full; of the others, the ones never read, then the longest unread, as
    many as keep every summary within the period: their share of the `spacing` seconds since the
    last poll (a poll woken early by a key reads fewer; by default the visible period). With `now`
    and `bound`: also every key that would be older than `bound` by the next poll."""
    shown = visible.__contains__  # the passes over every key in C (issue 28: 30,000 a poll)
    details = tuple(filter(shown, keys))
    offscreen = list(filterfalse(shown, keys))
    never = list(filterfalse(read_at.__contains__, offscreen))
    step = plan.visible_period if spacing is None else min(max(spacing, 0.0), plan.summary_period)
    per_poll = math.ceil(len(offscreen) * step / plan.summary_period) if offscreen else 0
    wanted = max(per_poll, len(never))
    if now is not None and bound is not None:
        late = now + plan.visible_period - bound  # read before this, older than bound next poll
        wanted = max(wanted, len(never) + sum(1 for k in offscreen if read_at.get(k, late) < late))
    if wanted >= len(offscreen):
        return PollPlan(details, tuple(offscreen))
    known = [k for k in offscreen if k in read_at]
    known.sort(key=read_at.__getitem__)
    return PollPlan(details, tuple(never) + tuple(known[: wanted - len(never)]))


def measured_costs(
    previous: Costs, deltas: Mapping[str, tuple[int, int]], summaries: int, details: int
) -> Costs:
    """The running estimate moved towards one poll's INFO commandstats deltas ({command: (calls,
    usec)}); `summaries` streams were read (details included, they read the summary too) and
    `details` of them in full. A part the poll did not read keeps its estimate."""
    summary = sum(u for name, (_, u) in deltas.items() if name in SUMMARY_COMMANDS)
    detail = sum(u for name, (_, u) in deltas.items() if name in DETAIL_COMMANDS)
    fixed = sum(u for name, (_, u) in deltas.items() if name in FIXED_COMMANDS)

    def move(old: float, total: float, count: int) -> float:
        if count <= 0:
            return old
        sample = total / count
        if old > 0:  # a first estimate of 0 (nothing measured yet) takes the sample as it is
            sample = min(sample, MAX_JUMP * old)
        return old + COST_WEIGHT * (sample - old)

    return Costs(
        summary_us=move(previous.summary_us, summary, summaries),
        detail_us=move(previous.detail_us, detail, details),
        fixed_us=move(previous.fixed_us, fixed, 1),
    )


def scaled_costs(previous: Costs, total_us: float, summaries: int, details: int) -> Costs:
    """Without INFO commandstats (an ACL): the estimate scaled so that it predicts `total_us` (the
    round trip's wall time, an upper bound of the server's part) for the poll just made."""
    predicted = previous.fixed_us + summaries * previous.summary_us + details * previous.detail_us
    if predicted <= 0 or total_us <= 0:
        return previous
    factor = 1 + COST_WEIGHT * (min(total_us / predicted, MAX_JUMP) - 1)
    return Costs(previous.summary_us * factor, previous.detail_us * factor, previous.fixed_us * factor)


def own_share(deltas: Mapping[str, tuple[int, int]], sent: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """The deltas cut to the calls this poll sent ({command: calls}): where another client ran the
    same command inside the bracket, its calls are taken out at the average cost per call."""
    out = {}
    for name, (calls, usec) in deltas.items():
        own = min(calls, sent.get(name, 0))
        if own:
            out[name] = (own, round(usec * own / calls))
    return out


def usec_deltas(
    before: Mapping[str, tuple[int, int]], after: Mapping[str, tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    """{command: (calls, usec)} added between two INFO commandstats (a reset reads as nothing)."""
    out = {}
    for name, (calls, usec) in after.items():
        c0, u0 = before.get(name, (0, 0))
        if calls > c0 and usec >= u0:
            out[name] = (calls - c0, usec - u0)
    return out


ALL_COMMANDS = "*"  # commandstats key of every command's calls and usec together (every client)
CPU_WEIGHT = 0.7  # how much of the running CPU / command-time sums each poll keeps
CPU_MIN_USEC = 2000.0  # command usec the sums need before they correct anything


class CpuShare:
    """How much of the server's command time was really CPU (issue 29).

    INFO commandstats `usec` is wall time around each command: on a busy host the server is
    descheduled inside commands and the usec rise (2-3x between rounds was seen) while the CPU it
    spends does not. Each poll brackets its commands with INFO cpu (the main thread's user + sys)
    as well as INFO commandstats; over the bracket, CPU time / every client's command usec is the
    share of command time that was CPU. The polls' own usec are multiplied by it (never above 1:
    the CPU also covers reading and writing replies, which commandstats does not count, and an
    idle host must not be scaled up). Running sums over the last polls, so one bracket of coarse
    CPU counters does not swing it."""

    def __init__(self) -> None:
        self.cpu_us = 0.0
        self.command_us = 0.0

    def add(self, cpu_us: float | None, command_us: float | None) -> None:
        """One bracket: the main thread's CPU microseconds and every command's usec in it."""
        if cpu_us is None or command_us is None or cpu_us < 0 or command_us <= 0:
            return
        self.cpu_us = self.cpu_us * CPU_WEIGHT + cpu_us
        self.command_us = self.command_us * CPU_WEIGHT + command_us

    @property
    def factor(self) -> float:
        """In (0, 1]: 1 until enough was measured, or while commands cost at least their time."""
        if self.command_us < CPU_MIN_USEC:
            return 1.0
        return max(0.01, min(1.0, self.cpu_us / self.command_us))


def scaled_deltas(deltas: Mapping[str, tuple[int, int]], factor: float) -> dict[str, tuple[int, int]]:
    """The deltas' usec times `factor` (CpuShare.factor)."""
    return {name: (calls, round(usec * factor)) for name, (calls, usec) in deltas.items()}


class LoadMeter:
    """The share of the server's time the polls took over the last LOAD_WINDOW seconds: server
    usec spent on them, over the seconds they were spread across."""

    def __init__(self, window: float = LOAD_WINDOW) -> None:
        self.window = window
        self._polls: deque[tuple[float, float]] = deque()  # (monotonic end of the poll, usec)
        self._start: float | None = None  # when the measured span began

    def add(self, at: float, usec: float) -> None:
        if self._start is None:
            self._start = at
        self._polls.append((at, usec))
        while len(self._polls) > 1 and self._polls[1][0] <= at - self.window:
            self._start = self._polls.popleft()[0]

    def load(self, now: float) -> float | None:
        """A fraction of one core (0.008 is 0.8 %); None until two polls span some time."""
        if self._start is None or not self._polls:
            return None
        span = max(now, self._polls[-1][0]) - self._start
        spent = [u for t, u in self._polls if t > self._start]
        if span <= 0 or not spent:  # one poll only opens the span: unknown, not 0
            return None
        return sum(spent) / 1e6 / span
