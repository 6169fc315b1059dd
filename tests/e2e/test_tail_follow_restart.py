"""`tail --follow` rides out a server restart and notices a recreated stream (issue 24, item 11):
it says on stderr that the connection was lost and is back (never a "try --tls" hint to a server it
has been reading), goes on where it was, and reads a stream that was deleted and recreated (lower
IDs, or entries-added reset) from its start instead of waiting above the old last ID."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading

import pytest
import redis

from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow
TAIL = [sys.executable, "-m", "streamtop", "tail"]


class Follow:
    def __init__(self, url: str, key: str) -> None:
        self.proc = subprocess.Popen(
            [*TAIL, key, "--follow", "--url", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.lines: list[str] = []
        self.errors: list[str] = []
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(
                target=lambda s=stream, q=q: [q.put(x.rstrip("\n")) for x in s], daemon=True
            ).start()

    def got(self, n: int) -> bool:
        while not self.out.empty():
            self.lines.append(self.out.get())
        while not self.err.empty():
            self.errors.append(self.err.get())
        return len(self.lines) >= n

    def said(self, words: str) -> bool:
        self.got(0)
        return any(words in line for line in self.errors)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


def blocked(r: redis.Redis) -> bool:
    return any(c.get("cmd") == "xread" for c in r.client_list())


def test_follow_rides_out_a_restart_and_reads_the_recreated_stream_from_its_start(own_server):
    r = redis.Redis.from_url(own_server.url, decode_responses=True)
    r.xadd("jobs", {"n": "1"}, id="100-1")
    tail = Follow(own_server.url, "jobs")
    try:
        wait_for(lambda: tail.got(1) and blocked(r), "the first entry, then XREAD")
        own_server.stop()  # no persistence: the stream is gone when it comes back
        wait_for(lambda: tail.said("lost"), "the lost connection said on stderr")
        assert tail.proc.poll() is None, tail.errors
        own_server.start()
        r = redis.Redis.from_url(own_server.url, decode_responses=True)
        r.xadd("jobs", {"n": "2"}, id="5-1")  # lower than anything read before the restart
        r.xadd("jobs", {"n": "3"}, id="6-1")
        wait_for(lambda: tail.got(3), "the recreated stream's entries")
        assert tail.lines == ["100-1  n=1", "5-1  n=2", "6-1  n=3"]
        assert tail.said("reconnected") and not tail.said("--tls"), tail.errors
        assert tail.stop() == 130
    finally:
        tail.stop()


def test_follow_reads_a_stream_recreated_under_it_from_its_start(server, r):
    """No restart: the key deleted and written again with lower IDs while tail waits."""
    r.xadd("jobs", {"n": "1"}, id="100-1")
    tail = Follow(server.url, "jobs")
    try:
        wait_for(lambda: tail.got(1) and blocked(r), "the first entry, then XREAD")
        r.delete("jobs")
        r.xadd("jobs", {"n": "2"}, id="5-1")
        wait_for(lambda: tail.got(2), "the recreated stream's first entry")
        assert tail.lines == ["100-1  n=1", "5-1  n=2"]
        assert tail.said("recreated")
        r.xadd("jobs", {"n": "3"}, id="6-1")
        wait_for(lambda: tail.got(3), "the next entry")
        assert tail.lines[2] == "6-1  n=3"
        assert tail.stop() == 130
    finally:
        tail.stop()


def test_follow_reads_a_recreated_stream_that_grew_past_the_old_last_id(server, r):
    """Deleted and written again, lower IDs first and then one above the last ID read, before
    tail's next look: XREAD after the old last ID would hand over only the higher one (5-1 was
    skipped). The entry tail read last is neither there nor recorded as deleted
    (max-deleted-entry-id) and the stream starts below it: another stream, read from its start."""
    r.xadd("jobs", {"n": "1"}, id="100-1")
    tail = Follow(server.url, "jobs")
    try:
        wait_for(lambda: tail.got(1) and blocked(r), "the first entry, then XREAD")
        with r.pipeline(transaction=True) as p:  # at once: tail sees no moment without the key
            p.delete("jobs")
            p.xadd("jobs", {"n": "2"}, id="5-1")
            p.xadd("jobs", {"n": "3"}, id="200-1")
            p.execute()
        wait_for(lambda: tail.got(3), "the recreated stream's entries")
        assert tail.lines == ["100-1  n=1", "5-1  n=2", "200-1  n=3"]
        assert tail.said("recreated")
        assert tail.stop() == 130
    finally:
        tail.stop()


def test_follow_after_an_xdel_of_the_last_entry_read_prints_nothing_twice(server, r):
    """The same stream, its last entry read deleted by a consumer (XDEL after processing): not a
    recreation; what tail printed is not printed again."""
    r.xadd("jobs", {"n": "1"}, id="100-1")
    r.xadd("jobs", {"n": "2"}, id="101-1")
    tail = Follow(server.url, "jobs")
    try:
        wait_for(lambda: tail.got(2) and blocked(r), "the last entries, then XREAD")
        r.xdel("jobs", "101-1")
        r.xadd("jobs", {"n": "3"}, id="200-1")
        wait_for(lambda: tail.got(3), "the next entry")
        r.xadd("jobs", {"n": "4"}, id="201-1")
        wait_for(lambda: tail.got(4), "the one after")
        assert tail.lines == ["100-1  n=1", "101-1  n=2", "200-1  n=3", "201-1  n=4"]
        assert not tail.said("recreated")
        assert tail.stop() == 130
    finally:
        tail.stop()
