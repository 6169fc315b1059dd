"""The cadence as pure functions (issue 17): budget, costs and the visible set in, what each poll
reads out. No server: the costs are made up, the clock is a number."""

from __future__ import annotations

import math

import pytest

from streamtop.pipeline.cadence import (
    Cadence,
    Costs,
    CpuShare,
    LoadMeter,
    cadence,
    measured_costs,
    own_share,
    plan_poll,
    scaled_costs,
    scaled_deltas,
    usec_deltas,
)

COSTS = Costs(summary_us=10.0, detail_us=20.0, fixed_us=100.0)


def keys(n: int) -> list[bytes]:
    return [f"s:{i:05d}".encode() for i in range(n)]


def load_of(c: Cadence, costs: Costs, visible: int, offscreen: int) -> float:
    """Server usec per second the cadence takes: what the budget is compared with."""
    per_poll = costs.fixed_us + visible * (costs.summary_us + costs.detail_us)
    return per_poll / c.visible_period + offscreen * costs.summary_us / c.summary_period


def test_within_budget_nothing_is_stretched():
    """40 rows in full every second and 1,000 summaries every 5 s cost 1,300 + 2,000 usec/s:
    within 2 % (20,000 usec/s), so the asked periods stand."""
    c = cadence(0.02, COSTS, visible=40, offscreen=1000, interval=1.0, summary_period=5.0)
    assert (c.visible_period, c.summary_period, c.stretched) == (1.0, 5.0, False)


def test_offscreen_stretches_first_and_fills_the_budget_exactly():
    """100,000 off-screen summaries every 5 s would be 200,000 usec/s: the off-screen period
    grows until the total is the budget, and the visible rows keep the interval."""
    c = cadence(0.02, COSTS, visible=40, offscreen=100_000, interval=1.0, summary_period=5.0)
    assert c.visible_period == 1.0 and not c.stretched
    assert c.summary_period > 5.0
    assert math.isclose(load_of(c, COSTS, 40, 100_000), 20_000, rel_tol=1e-9)


def test_visible_stretches_once_offscreen_is_at_its_longest():
    """A budget so small that even the longest off-screen period does not fit: the visible rows
    are read less often too (the header says so), the summaries still within the bound (60 s,
    less the poll that reads them), and the load is the budget."""
    c = cadence(0.0005, COSTS, visible=40, offscreen=1000, interval=1.0, summary_period=5.0)
    assert c.stretched and c.visible_period > 1.0 and c.met
    assert c.summary_period + c.visible_period <= 60.0 + 1e-9
    assert math.isclose(load_of(c, COSTS, 40, 1000), 500, rel_tol=1e-6)


def test_a_budget_that_cannot_be_met_keeps_the_age_bound_and_says_so():
    """issue 24: --max-server-load 0.001 on 100,000 streams. The summaries used to age without
    bound (70 -> 183 s, rising); now they stay within 60 s and the cadence says the budget is not
    met, with the load it will cost (the header shows it), the cheapest within the bound."""
    c = cadence(0.00001, COSTS, visible=40, offscreen=100_000, interval=1.0, summary_period=5.0)
    assert not c.met
    assert c.summary_period + c.visible_period <= 60.0 + 1e-9
    assert math.isclose(c.load * 1e6, load_of(c, COSTS, 40, 100_000), rel_tol=1e-9)
    assert c.load > 0.00001
    for vp in (1.0, 5.0, 15.0, 30.0):  # no other visible period within the bound is cheaper
        other = Cadence(vp, 60.0 - vp, 1.0)
        assert load_of(other, COSTS, 40, 100_000) >= load_of(c, COSTS, 40, 100_000) * (1 - 1e-6)


@pytest.mark.parametrize("budget", [0.00001, 0.0005, 0.002, 0.02, 0.2])
@pytest.mark.parametrize("streams", [10, 1000, 10_000, 100_000])
def test_the_load_never_exceeds_the_budget_unless_it_says_so(budget, streams):
    """Whatever the sizes: either the asked periods fit, or the cadence takes the budget, not
    more, or it says the budget cannot be met; and a summary is never older than 60 s."""
    c = cadence(
        budget,
        COSTS,
        visible=min(40, streams),
        offscreen=max(0, streams - 40),
        interval=1.0,
        summary_period=5.0,
    )
    used = load_of(c, COSTS, min(40, streams), max(0, streams - 40))
    if (c.visible_period, c.summary_period) != (1.0, 5.0) and c.met:
        assert used <= budget * 1e6 * (1 + 1e-9)
    if not c.met:
        assert used > budget * 1e6
    assert c.visible_period >= 1.0 and c.summary_period >= 5.0
    if streams > 40:
        assert c.summary_period + c.visible_period <= 60.0 + 1e-9


@pytest.mark.parametrize("budget", [0.00001, 0.0005, 0.02])
def test_no_summary_is_ever_older_than_the_bound(budget):
    """Polls at the cadence's visible period, 1,000 off-screen keys, 10 minutes: the oldest
    summary shown (just before each poll) never passes 60 s, whatever the budget."""
    ks = keys(1040)
    visible = set(ks[:40])
    c = cadence(budget, COSTS, visible=40, offscreen=1000, interval=1.0, summary_period=5.0)
    read_at: dict[bytes, float] = {}
    t, worst = 0.0, 0.0
    while t < 600:
        if read_at:
            worst = max(worst, t - min(read_at.values()))
        plan = plan_poll(ks, visible, read_at, c, spacing=c.visible_period if t else None, now=t, bound=60.0)
        for k in plan.summaries:
            read_at[k] = t
        t += c.visible_period
    assert worst <= 60.0


def test_a_late_poll_reads_every_key_that_would_pass_the_bound():
    """A poll that comes late (the loop was busy): every key older than the bound by the next
    poll is read now, not only its share of the period."""
    ks = keys(100)
    read_at = {k: (0.0 if i < 30 else 50.0) for i, k in enumerate(ks)}
    plan = plan_poll(ks, set(), read_at, Cadence(1.0, 30.0, 1.0), spacing=1.0, now=59.5, bound=60.0)
    assert set(ks[:30]) <= set(plan.summaries)


def test_summary_period_is_never_shorter_than_the_interval():
    c = cadence(0.02, COSTS, visible=1, offscreen=10, interval=10.0, summary_period=5.0)
    assert c.summary_period == 10.0


def test_plan_reads_visible_in_full_and_never_read_keys_as_summaries():
    ks = keys(100)
    plan = plan_poll(ks, set(ks[:5]), {}, Cadence(1.0, 5.0, 1.0))
    assert plan.details == tuple(ks[:5])
    assert plan.summaries == tuple(ks[5:])  # nothing read yet: every row needs its values


def test_plan_spreads_summaries_oldest_first():
    """95 off-screen keys within 5 s at one poll a second: 19 a poll, the longest unread first."""
    ks = keys(100)
    read_at = {k: float(i) for i, k in enumerate(ks)}  # s:00000 read longest ago
    plan = plan_poll(ks, set(ks[:5]), read_at, Cadence(1.0, 5.0, 1.0))
    assert plan.details == tuple(ks[:5])
    assert plan.summaries == tuple(ks[5:24])


def test_plan_reads_fewer_summaries_after_a_short_spacing():
    """A poll woken early (a key pressed 0.1 s after the last poll) reads its share of 0.1 s."""
    ks = keys(1000)
    read_at = dict.fromkeys(ks, 0.0)
    plan = plan_poll(ks, set(), read_at, Cadence(1.0, 5.0, 1.0), spacing=0.1)
    assert len(plan.summaries) == 20


def test_every_summary_is_read_within_the_period():
    """Polls one second apart over 20 s: no off-screen key goes unread longer than the period."""
    ks = keys(1000)
    visible = set(ks[:30])
    c = Cadence(1.0, 5.0, 1.0)
    read_at: dict[bytes, float] = {}
    worst = 0.0
    for t in range(20):
        plan = plan_poll(ks, visible, read_at, c, spacing=1.0 if t else None)
        for k in plan.summaries:
            if k in read_at:
                worst = max(worst, t - read_at[k])
            read_at[k] = float(t)
    assert set(read_at) == set(ks) - visible
    assert worst <= 5.0


def test_visible_keys_not_in_the_keyspace_are_ignored():
    ks = keys(10)
    plan = plan_poll(ks, {b"elsewhere", ks[0]}, {}, Cadence(1.0, 5.0, 1.0))
    assert plan.details == (ks[0],)


def test_measured_costs_follow_commandstats():
    """Per-command deltas split into summary, detail and fixed parts, each per stream read."""
    deltas = {
        "xinfo|stream": (100, 400),
        "xinfo|groups": (100, 600),  # 10 usec a summary
        "xinfo|consumers": (20, 200),
        "xpending": (40, 300),
        "xrange": (20, 100),  # 60 usec a detail (10 streams)
        "info": (1, 50),
        "time": (1, 1),
    }
    c = Costs(summary_us=10.0, detail_us=0.0, fixed_us=51.0)
    for _ in range(50):
        c = measured_costs(c, deltas, summaries=100, details=10)
    assert math.isclose(c.summary_us, 10.0) and math.isclose(c.fixed_us, 51.0)
    assert math.isclose(c.detail_us, 60.0, rel_tol=1e-6)


def test_a_part_not_read_keeps_its_estimate():
    c = measured_costs(COSTS, {"xinfo|stream": (5, 50)}, summaries=5, details=0)
    assert c.detail_us == COSTS.detail_us


def test_scaled_costs_predict_the_round_trip():
    c = COSTS
    for _ in range(60):
        c = scaled_costs(c, 2 * (100 + 10 * 10 + 2 * 20), summaries=10, details=2)
    assert math.isclose(c.fixed_us + 10 * c.summary_us + 2 * c.detail_us, 480, rel_tol=1e-6)


def test_usec_deltas_ignore_a_reset():
    before = {"xrange": (10, 100), "xpending": (5, 50)}
    after = {"xrange": (15, 160), "xpending": (1, 3)}  # CONFIG RESETSTAT in between
    assert usec_deltas(before, after) == {"xrange": (5, 60)}


def test_load_meter_is_usec_over_the_span():
    m = LoadMeter(window=10.0)
    assert m.load(0.0) is None
    m.add(0.0, 9999.0)  # the first poll opens the span
    for t in range(1, 11):
        m.add(float(t), 2000.0)
    assert math.isclose(m.load(10.0), 0.002)  # 2 ms of server time per second


def test_load_meter_forgets_beyond_its_window():
    m = LoadMeter(window=10.0)
    for t in range(0, 30):
        m.add(float(t), 10_000.0 if t < 15 else 1000.0)
    assert math.isclose(m.load(29.0), 0.001)


def scrape_period(budget: float, costs: Costs, streams: int, interval: float) -> float:
    """serve: every stream in full (nothing off screen), so only the visible period stretches."""
    return cadence(budget, costs, streams, 0, interval, interval).visible_period


def test_a_full_scrape_stretches_its_interval_to_the_budget():
    """serve: 10,000 streams in full every 15 s is 20,000 usec/s, twice a 1 % budget."""
    assert scrape_period(0.02, COSTS, 10, 15.0) == 15.0
    period = scrape_period(0.01, COSTS, 10_000, 15.0)
    assert math.isclose((100 + 10_000 * 30) / period, 10_000, rel_tol=1e-9)


def test_own_share_takes_another_clients_calls_out_at_the_average_cost():
    deltas = {"xinfo|stream": (12, 1200), "scan": (50, 5000), "xpending": (4, 40)}
    assert own_share(deltas, {"xinfo|stream": 10, "xpending": 4}) == {
        "xinfo|stream": (10, 1000),
        "xpending": (4, 40),
    }
    assert own_share(deltas, {"scan": 2}) == {"scan": (2, 200)}
    assert own_share(deltas, {}) == {}


def test_one_slow_poll_moves_the_estimate_by_a_bounded_step():
    """A single 2 s command of another client inside the bracket (or a 10 s stalled round trip
    without INFO) must not stretch the cadence for minutes."""
    spiked = measured_costs(COSTS, {"xrange": (1, 2_000_000)}, summaries=1, details=1)
    assert spiked.detail_us <= COSTS.detail_us * (1 + 0.3 * 3) + 1e-9
    stalled = scaled_costs(COSTS, 10_000_000, summaries=1, details=1)
    assert stalled.summary_us <= COSTS.summary_us * (1 + 0.3 * 3) + 1e-9


def test_one_poll_is_no_measure_of_the_load():
    """The first poll only opens the span: asked a moment later (the poll's cost is built after
    its replies), the load is unknown, not 0 (serve exported `streamtop_server_load_ratio 0` after
    its first poll, against its HELP "absent until measured")."""
    m = LoadMeter(window=10.0)
    m.add(5.0, 9999.0)
    assert m.load(5.2) is None
    m.add(6.0, 1000.0)
    assert m.load(6.0) is not None and m.load(6.0) > 0


def test_command_time_that_was_not_cpu_is_taken_out():
    """issue 29: on a busy host commandstats usec rose 2-3x while INFO cpu did not: the share of
    command time that was CPU scales the polls' usec down, never up, and not from one bracket."""
    share = CpuShare()
    assert share.factor == 1.0
    share.add(300, 900)  # too little measured yet to correct anything
    assert share.factor == 1.0
    for _ in range(10):
        share.add(10_000, 30_000)  # descheduled: a third of the command time was CPU
    assert share.factor == pytest.approx(1 / 3)
    assert scaled_deltas({"xinfo|stream": (10, 900)}, share.factor) == {"xinfo|stream": (10, 300)}
    idle = CpuShare()
    for _ in range(10):
        idle.add(50_000, 30_000)  # replies written and read cost CPU commandstats does not count
    assert idle.factor == 1.0
    idle.add(None, 30_000)  # INFO cpu refused or missing: nothing learnt
    idle.add(0, 0)
    assert idle.factor == 1.0
