"""`streamtop tail` as a real process against a real server: decoded lines, --json, --raw, --from
in pages, --follow with XREAD BLOCK until SIGINT, one-line errors, a closed pipe, escaped bytes."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import subprocess
import sys
import threading

import pytest

from tests.support.waiting import wait_for

TAIL = [sys.executable, "-m", "streamtop", "tail"]


def tail(server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TAIL, *args, "--url", server.url], capture_output=True, text=True, timeout=60)


def taskiq_data(task_name: str, task_id: str, args: list) -> bytes:
    message = pytest.importorskip("taskiq.message")
    formatter = pytest.importorskip("taskiq.formatters.json_formatter")
    task = message.TaskiqMessage(task_id=task_id, task_name=task_name, labels={}, args=args, kwargs={})
    return formatter.JSONFormatter().dumps(task).message


def faststream_data(body: object) -> bytes:
    parser = pytest.importorskip("faststream.redis.parser")
    return asyncio.run(
        parser.BinaryMessageFormatV1.encode(
            message=body, reply_to=None, headers=None, correlation_id="corr-1"
        )
    )


def test_last_entries_oldest_first_decoded(server, r):
    for n in range(12):
        r.xadd("jobs", {"data": taskiq_data("app.tasks:resize", f"id-{n}", [n])})
    done = tail(server, "jobs", "-n", "3")
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    ids = [e[0].decode() for e in r.xrange("jobs")][-3:]
    assert [line.split()[0] for line in lines] == ids
    assert lines[0].split()[1:4] == ["taskiq", "task_name=app.tasks:resize", "args=[9]"]
    assert len(tail(server, "jobs").stdout.splitlines()) == 10  # the default N


def test_json_lines_carry_the_faststream_envelope(server, r):
    entry_id = r.xadd("events", {"__data__": faststream_data({"event": "signup", "user": 7})}).decode()
    r.xadd("events", {"plain": "yes"})
    done = tail(server, "events", "--json")
    assert done.returncode == 0
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["id"] == entry_id and first["format"] == "faststream"
    assert first["body"] == {"event": "signup", "user": 7}
    assert dict(first["headers"])["correlation_id"] == "corr-1"  # [name, value] pairs, like fields
    [[name, value]] = first["fields"]
    assert name == "__data__" and value.startswith("\\x89BIN")
    assert second == {"id": second["id"], "fields": [["plain", "yes"]]}  # nothing decoded: no body


def test_raw_and_forced_format(server, r):
    r.xadd("jobs", {"data": taskiq_data("t", "x", [])})
    raw = tail(server, "jobs", "--raw").stdout
    assert raw.split()[1].startswith('data={"task_id":"x"')
    as_json = tail(server, "jobs", "--decode", "json", "--json").stdout
    assert json.loads(as_json)["format"] == "json"
    both = tail(server, "jobs", "--raw", "--decode", "json")
    assert both.returncode == 1 and both.stderr.count("\n") == 1


def test_from_an_id_pages_through_everything(server, r):
    pipe = r.pipeline()
    for n in range(2500):
        pipe.xadd("big", {"n": str(n)}, id=f"{n + 1}-0")
    pipe.execute()
    everything = tail(server, "big", "--from", "-").stdout.splitlines()
    assert len(everything) == 2500 and everything[-1] == "2500-0  n=2499"
    after = tail(server, "big", "--from", "(1000-0", "-n", "2").stdout.splitlines()
    assert after == ["1001-0  n=1000", "1002-0  n=1001"]


def test_hostile_values_are_escaped(server, r):
    r.xadd("h", {"f": b"\x1b[31mred\x1b]0;title\x07\xff"})
    out = tail(server, "h").stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31mred" in out and "\\xff" in out


@pytest.mark.parametrize(
    "args, says",
    [
        (["missing"], "no stream 'missing'"),
        (["str"], "holds a string"),
        (["s", "--from", "nope"], "Invalid stream ID"),
        (["s", "-n", "-1"], "count"),
        (["s", "--decode", "s=yaml"], "unknown format 'yaml'"),
        ([""], "KEY is empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(server, r, args, says):
    r.set("str", "x")
    r.xadd("s", {"a": "1"})
    done = tail(server, *args)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr and "Traceback" not in done.stderr


def test_a_closed_pipe_ends_quietly(server, r):
    pipe = r.pipeline()
    for n in range(3000):
        pipe.xadd("big", {"n": str(n), "pad": "x" * 200})
    pipe.execute()
    proc = subprocess.Popen(
        [*TAIL, "big", "--from", "-", "--url", server.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().split()[1] == b"n=0"
    proc.stdout.close()  # as `| head -1` does
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def _reader(stream) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in iter(stream.readline, ""):
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.mark.slow
def test_follow_prints_new_entries_until_sigint(server, r):
    r.xadd("live", {"n": "0"}, id="1-0")
    proc = subprocess.Popen(
        [*TAIL, "live", "--follow", "--url", server.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = _reader(proc.stdout)
    seen: list[str] = []

    def got(n: int) -> bool:
        while not lines.empty():
            seen.append(lines.get())
        return len(seen) >= n

    wait_for(lambda: got(1), "the existing entry")
    assert seen == ["1-0  n=0"]
    # the reader blocks in XREAD on the server before the next entry arrives
    wait_for(lambda: any(c.get("cmd") == "xread" for c in r.client_list()), "tail blocked in XREAD")
    r.xadd("live", {"n": "1"}, id="2-0")
    r.xadd("live", {"data": taskiq_data("app:late", "t-9", [])}, id="3-0")
    wait_for(lambda: got(3), "the two new entries")
    assert seen[1] == "2-0  n=1" and seen[2].startswith("3-0  taskiq  task_name=app:late")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


@pytest.mark.slow
def test_follow_waits_for_a_stream_that_does_not_exist_yet(server, r):
    proc = subprocess.Popen(
        [*TAIL, "later", "-f", "--json", "--url", server.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = _reader(proc.stdout)
    wait_for(lambda: any(c.get("cmd") == "xread" for c in r.client_list()), "tail in XREAD")
    entry_id = r.xadd("later", {"k": "v"}).decode()
    line = wait_for(lambda: None if lines.empty() else lines.get(), "the first entry")
    assert json.loads(str(line)) == {"id": entry_id, "fields": [["k", "v"]]}
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
