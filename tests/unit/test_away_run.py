"""The bookkeeping of one F8 absence (demo.pubsub.AwayRun), no server: what counts as published
"while away" is only what neither the subscriber nor the group consumer could have seen."""

from __future__ import annotations

from streamtop.demo.pubsub import AwayCounts, AwayRun


def test_only_what_was_published_while_both_were_offline_counts():
    run = AwayRun(60)
    run.subscriber_offline = True
    run.on_published(["1-0"], open_before=run.window_open())  # audit1 still reading: not counted
    run.consumer_offline = True
    run.on_published(["2-0", "3-0"], open_before=run.window_open())
    run.consumer_back = True  # audit1 reads again: the window is closed
    run.on_published(["4-0"], open_before=run.window_open())
    assert run.published == {"2-0", "3-0"}


def test_counts_and_the_line_once_all_three_are_back():
    run = AwayRun(0.0)
    run.subscriber_offline = run.consumer_offline = True
    run.on_published(["5-0", "6-0", "7-0"], open_before=True)
    run.on_received("8-0")  # after it subscribed again: not one of the away entries
    run.on_consumed(["5-0", "6-0", "7-0", "8-0"])
    run.on_read(["5-0", "6-0"])
    run.subscriber_back = run.consumer_back = run.reader_back = True
    assert run.over
    assert run.counts() == AwayCounts(published=3, received=0, consumed=3, read=2)
    assert run.line() == (
        "pub/sub: missed 3 of 3 published while away; stream: caught up 3 of 3 (audit1, group "
        "audit: XREADGROUP from the group's position); reader1 2 of 3 (XREAD from reader1:lastid)"
    )


def test_not_over_until_the_group_consumer_is_back():
    run = AwayRun(0.0)
    run.subscriber_back = run.reader_back = True
    assert not run.over
    assert run.line().startswith("sub1, audit1 and reader1 away")
