"""`streamtop report`: an incident summary of a recording, from its plain tables (schema.py).

Per group: the verdict timeline, the peaks of lag, time lag and pending with when, the consumers
that came and went; then the actions taken and the server's outages. As text, or as one
self-contained HTML file whose charts are inline SVG (no script, no font, no request to any host:
it opens from a mail attachment or an air-gapped laptop the same). Names are data: escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime

from .reader import Recording

VERDICT_COLOURS = {
    "ok": "#3a9d5d",
    "idle": "#7a8a99",
    "falling_behind": "#e0a030",
    "stalled": "#d9534f",
    "stopped": "#a02020",
    "stuck": "#c0392b",
    "unknown": "#bbbbbb",
    "not moving": "#d9534f",
    "not judged": "#dddddd",
}


def when(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


@dataclass
class Peak:
    value: int | None = None
    t: float | None = None

    def see(self, value: int | None, t: float) -> None:
        if value is not None and (self.value is None or value > self.value):
            self.value, self.t = value, t

    def text(self, ms: bool = False) -> str:
        if self.value is None or self.t is None:
            return "-"
        shown = duration(self.value / 1000) if ms else f"{self.value:,}"
        return f"{shown} at {when(self.t)}"


@dataclass
class GroupReport:
    stream: str
    group: str
    verdicts: list[tuple[float, str, str]] = field(default_factory=list)  # (t, verdict, reason)
    lag: Peak = field(default_factory=Peak)
    time_lag: Peak = field(default_factory=Peak)
    pending: Peak = field(default_factory=Peak)
    series: list[tuple[float, int | None, int]] = field(default_factory=list)  # (t, lag, pending)
    came: list[tuple[float, str]] = field(default_factory=list)  # consumers that appeared
    went: list[tuple[float, str]] = field(default_factory=list)  # and that left
    first_seen: float | None = None
    gone_at: float | None = None


@dataclass
class Report:
    path: str
    url: str
    start: float
    end: float
    groups: list[GroupReport]
    actions: list[tuple[float, str, str, str, bool, str]]  # (t, who, command, args, ok, result)
    outages: list[tuple[float, float | None, str, str | None]]  # (start, end, state, error)


def build(rec: Recording, start: float | None = None, end: float | None = None) -> Report:
    """The report of [start, end] (default: the whole file)."""
    span = rec.span or (0.0, 0.0)
    lo = span[0] if start is None else start
    hi = span[1] if end is None else end
    q = rec.db.execute
    groups: dict[int, GroupReport] = {}
    for gid, stream, grp, first, gone in q(
        "SELECT id, stream, grp, first_seen, gone_at FROM groups WHERE first_seen <= ? "
        "AND (gone_at IS NULL OR gone_at >= ?) ORDER BY stream, grp",
        (hi, lo),
    ):
        groups[gid] = GroupReport(stream, grp, first_seen=first, gone_at=gone)
    for gid, g in groups.items():
        before = q(
            "SELECT t, verdict, reason FROM verdicts WHERE gid = ? AND t <= ? ORDER BY t DESC LIMIT 1",
            (gid, lo),
        ).fetchone()
        if before is not None:
            g.verdicts.append((lo, before[1], before[2]))
        g.verdicts += q(
            "SELECT t, verdict, reason FROM verdicts WHERE gid = ? AND t > ? AND t <= ? ORDER BY t",
            (gid, lo, hi),
        ).fetchall()
        last = q(
            "SELECT t, lag, pending, time_lag_ms FROM lag WHERE gid = ? AND t <= ? ORDER BY t DESC LIMIT 1",
            (gid, lo),
        ).fetchall()
        rows = (
            last
            + q(
                "SELECT t, lag, pending, time_lag_ms FROM lag WHERE gid = ? AND t > ? AND t <= ? ORDER BY t",
                (gid, lo, hi),
            ).fetchall()
        )
        for t, lag, pending, time_lag in rows:
            at = max(t, lo)
            g.lag.see(lag, at)
            g.pending.see(pending, at)
            g.time_lag.see(time_lag, at)
            g.series.append((at, lag, pending))
        for first, gone, name in q("SELECT first_seen, gone_at, name FROM consumers WHERE gid = ?", (gid,)):
            if lo <= first <= hi and (g.first_seen is None or first > g.first_seen):
                g.came.append((first, name))
            if gone is not None and lo <= gone <= hi:
                g.went.append((gone, name))
        g.came.sort()
        g.went.sort()
    actions = [
        (t, who, command, args, bool(ok), result)
        for t, who, command, args, ok, result in q(
            "SELECT t, who, command, args, ok, result FROM actions WHERE t BETWEEN ? AND ? ORDER BY t",
            (lo, hi),
        )
    ]
    outages = [
        (s, e, state, error)
        for s, e, state, error in q(
            'SELECT start, "end", state, error FROM outages '
            'WHERE start <= ? AND ("end" IS NULL OR "end" >= ?) ORDER BY start',
            (hi, lo),
        )
    ]
    return Report(str(rec.path), rec.url, lo, hi, list(groups.values()), actions, outages)


# text ----------------------------------------------------------------------------------------


def text(rep: Report) -> str:
    out = [
        f"streamtop report of {rep.path} ({rep.url})",
        f"from {when(rep.start)} to {when(rep.end)} ({duration(rep.end - rep.start)})",
        "",
    ]
    out.append(f"outages: {len(rep.outages) or 'none'}")
    for s, e, state, error in rep.outages:
        end = f"to {when(e)} ({duration(e - s)})" if e is not None else "still going at the end"
        out.append(f"  {when(s)} {end}: server {state}" + (f": {error}" if error else ""))
    out.append(f"actions: {len(rep.actions) or 'none'}")
    for t, who, command, args, ok, result in rep.actions:
        out.append(f"  {when(t)} {command} {args} by {who}: {'ok' if ok else 'FAILED'}: {result}")
    for g in rep.groups:
        out += ["", f"group {g.group} on {g.stream}"]
        if g.first_seen is not None and rep.start < g.first_seen <= rep.end:
            out.append(f"  appeared at {when(g.first_seen)}")
        if g.gone_at is not None and rep.start <= g.gone_at <= rep.end:
            out.append(f"  left at {when(g.gone_at)}")
        out.append(
            f"  peaks: lag {g.lag.text()}; time lag {g.time_lag.text(ms=True)}; pending {g.pending.text()}"
        )
        out.append("  verdicts:")
        for t, verdict, reason in g.verdicts:
            out.append(f"    {when(t)} {verdict}: {reason}")
        for t, name in g.came:
            out.append(f"  consumer {name} came at {when(t)}")
        for t, name in g.went:
            out.append(f"  consumer {name} went at {when(t)}")
    return "\n".join(out) + "\n"


# HTML ----------------------------------------------------------------------------------------

W, H, PAD = 720, 120, 40


def _x(t: float, rep: Report) -> float:
    span = max(rep.end - rep.start, 1e-9)
    return PAD + (t - rep.start) / span * (W - 2 * PAD)


def _chart(rep: Report, g: GroupReport) -> str:
    """Lag (blue) and pending (orange) as steps over the report's span, the verdicts as a band
    below, outages shaded: one inline SVG."""
    e = html.escape
    peak = max([v for _, lag, p in g.series for v in (lag, p) if v is not None] + [1])
    top, bottom = 10, H - 30

    def y(v: int) -> float:
        return bottom - v / peak * (bottom - top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        f'role="img" aria-label="lag and pending of {e(g.group)}">',
        f'<rect x="{PAD}" y="{top}" width="{W - 2 * PAD}" height="{bottom - top}" '
        'fill="#fafafa" stroke="#ccc"/>',
    ]
    for s, end, state, _ in rep.outages:
        x0, x1 = _x(max(s, rep.start), rep), _x(min(end if end is not None else rep.end, rep.end), rep)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" height="{bottom - top}" '
            f'fill="#f2b8b8" opacity="0.6"><title>server {e(state)}</title></rect>'
        )
    for index, colour in ((1, "#1f6fb4"), (2, "#e07b1a")):
        points: list[str] = []
        last_y: float | None = None
        for t, *values in g.series:
            v = values[index - 1]
            if v is None:
                continue
            x = _x(t, rep)
            if last_y is not None:
                points.append(f"{x:.1f},{last_y:.1f}")
            last_y = y(v)
            points.append(f"{x:.1f},{last_y:.1f}")
        if last_y is not None:
            points.append(f"{_x(rep.end, rep):.1f},{last_y:.1f}")
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(points)}"/>'
            )
    band_y = bottom + 6
    for i, (t, verdict, reason) in enumerate(g.verdicts):
        nxt = g.verdicts[i + 1][0] if i + 1 < len(g.verdicts) else rep.end
        x0, x1 = _x(t, rep), _x(nxt, rep)
        parts.append(
            f'<rect x="{x0:.1f}" y="{band_y}" width="{max(x1 - x0, 1):.1f}" height="10" '
            f'fill="{VERDICT_COLOURS.get(verdict, "#999")}">'
            f"<title>{e(when(t))} {e(verdict)}: {e(reason)}</title></rect>"
        )
    parts.append(
        f'<text x="{PAD}" y="{H - 2}" font-size="10" font-family="sans-serif">{e(when(rep.start))}</text>'
    )
    parts.append(
        f'<text x="{W - PAD}" y="{H - 2}" font-size="10" font-family="sans-serif" text-anchor="end">'
        f"{e(when(rep.end))}</text>"
    )
    parts.append(f'<text x="4" y="{top + 8}" font-size="10" font-family="sans-serif">{peak:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_page(rep: Report) -> str:
    e = html.escape
    rows: list[str] = []
    for g in rep.groups:
        verdicts = "".join(
            f'<li><time>{e(when(t))}</time> <b style="color:{VERDICT_COLOURS.get(v, "#333")}">{e(v)}</b>: '
            f"{e(reason)}</li>"
            for t, v, reason in g.verdicts
        )
        people = "".join(f"<li>{e(name)} came at {e(when(t))}</li>" for t, name in g.came)
        people += "".join(f"<li>{e(name)} went at {e(when(t))}</li>" for t, name in g.went)
        rows.append(
            f'<section class="group"><h2>{e(g.group)} <small>on {e(g.stream)}</small></h2>'
            f"<p>Peaks: lag {e(g.lag.text())}; time lag {e(g.time_lag.text(ms=True))}; "
            f"pending {e(g.pending.text())}</p>{_chart(rep, g)}"
            f"<p class=legend><span style=color:#1f6fb4>lag</span> / "
            f"<span style=color:#e07b1a>pending</span>; the band: the verdict; red shade: outage</p>"
            f"<h3>Verdicts</h3><ul>{verdicts or '<li>none recorded</li>'}</ul>"
            f"<h3>Consumers that came and went</h3><ul>{people or '<li>none</li>'}</ul></section>"
        )
    outages = "".join(
        f"<li>{e(when(s))} to {e(when(end)) if end is not None else 'the end'}: server {e(state)}"
        f"{': ' + e(error) if error else ''}</li>"
        for s, end, state, error in rep.outages
    )
    actions = "".join(
        f"<li>{e(when(t))} <code>{e(command)} {e(args)}</code> by {e(who)}: "
        f"{'ok' if ok else '<b>failed</b>'}: {e(result)}</li>"
        for t, who, command, args, ok, result in rep.actions
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>streamtop report: {e(rep.url)}</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}h2{margin-bottom:.2em}"
        "small{color:#666;font-weight:normal}.group{border-top:1px solid #ddd;padding-top:.5em}"
        ".legend{font-size:.8em;color:#555}time{font-family:monospace}</style></head><body>"
        f"<h1>streamtop report</h1><p>{e(rep.url)}: from {e(when(rep.start))} to {e(when(rep.end))} "
        f"({e(duration(rep.end - rep.start))}), recorded in {e(rep.path)}</p>"
        f"<h2>Outages</h2><ul>{outages or '<li>none</li>'}</ul>"
        f"<h2>Actions</h2><ul>{actions or '<li>none</li>'}</ul>"
        f"{''.join(rows) or '<p>no consumer group recorded</p>'}</body></html>\n"
    )
