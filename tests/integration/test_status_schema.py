"""`streamtop status --json` against its JSON Schema (streamtop/status.schema.json, printed by
`--json-schema`): real output from every server flavour, with streams, groups, consumers, pending
entries, a NULL lag with its estimate, a binary key, rates, every threshold breached and a stream
this user may not read. (The cluster's documents are checked in tests/integration/test_cluster.py.)"""

from __future__ import annotations

import copy
import json

import pytest
import redis

from streamtop import cli
from tests.support.status_schema import assert_valid, schema_errors, validator


def status_json(capsys, url: str, *argv: str) -> tuple[int, dict]:
    code = cli.main(["status", "--json", "--url", url, *argv])
    out, err = capsys.readouterr()
    assert "error" not in err, err  # (a password in the URL gets redis-cli's warning)
    return code, json.loads(out)


def arrange(r: redis.Redis) -> None:
    """orders: 10 entries; g1 read 4 (3 pending, by c1), c2 never read; `late` created at an
    arbitrary ID (NULL lag on 7.0+, no lag at all on 6.2: an estimate either way); a binary key."""
    for i in range(10):
        r.xadd("orders", {"n": i}, id=f"1000-{i + 1}")
    r.xgroup_create("orders", "g1", id="0")
    r.xreadgroup("g1", "c1", {"orders": ">"}, count=4)
    r.xack("orders", "g1", "1000-2")
    r.xgroup_createconsumer("orders", "g1", "c2")
    r.xgroup_create("orders", "late", id="1000-5")
    r.xadd(b"bin\xff\n", {b"\x00": b"\xfe"}, id="5-1")
    r.xgroup_create(b"bin\xff\n", b"g\xff", id="0", mkstream=True)
    r.xadd("empty", {"f": "v"}, id="1-1")
    r.xdel("empty", "1-1")


def test_the_schema_is_a_valid_draft_2020_12_schema_and_closed():
    schema = validator().schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    objects = [schema, *schema["$defs"].values(), *schema["properties"].values()]
    for obj in (o for o in objects if o.get("type") == "object"):  # every field listed and required
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])


def test_json_schema_option_prints_the_schema(capsys):
    assert cli.main(["status", "--json-schema"]) == 0  # no server needed
    out = capsys.readouterr().out
    assert json.loads(out) == validator().schema


def test_real_output_on_every_server_matches_the_schema(capsys, any_server, any_r):
    arrange(any_r)
    code, doc = status_json(
        capsys,
        any_server.url,
        "--rates",
        "--rates-interval",
        "0.05",
        "--max-lag",
        "0",
        "--max-pending",
        "0",
        "--max-idle",
        "0",
        "--max-length",
        "1",
    )
    assert_valid(doc)
    assert code == 2 and {b["metric"] for b in doc["breaches"]} == {"lag", "pending", "idle_ms", "length"}
    assert doc["rates_interval_ms"] == 50
    orders = next(s for s in doc["streams"] if s["key"] == "orders")
    groups = {g["name"]: g for g in orders["groups"]}
    assert groups["late"]["lag"] is None and groups["late"]["lag_source"] == "estimate"
    assert groups["late"]["lag_estimate"] == 5  # entries after 1000-5
    assert [c["name"] for c in groups["g1"]["consumers"]] == ["c1", "c2"]
    assert groups["g1"]["oldest_pending_id"] == "1000-1"
    assert any(s["key_hex"] == b"bin\xff\n".hex() for s in doc["streams"])
    code, doc = status_json(capsys, any_server.url)  # no thresholds, no rates: the nulls
    assert_valid(doc)
    assert code == 0 and doc["thresholds"] == dict.fromkeys(doc["thresholds"])


def test_an_unreadable_stream_and_its_breach_match_the_schema(capsys, server, r):
    r.xadd("open:s", {"f": "v"})
    r.xadd("secret:s", {"f": "v"})
    r.execute_command("ACL", "SETUSER", "watcher", "on", ">pw", "~open:*", "+@all")
    code, doc = status_json(capsys, f"redis://watcher:pw@127.0.0.1:{server.port}/0", "--max-length", "10")
    assert_valid(doc)
    assert code == 2 and [b["metric"] for b in doc["breaches"]] == ["unreadable"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("streams", 0, "groups", 0, "surprise"), 1),  # a field the schema does not know
        (("streams", 0, "groups", 0, "lag"), "5"),  # a number as a string
        (("streams", 0, "groups", 0, "lag_source"), "guessed"),
        (("streams", 0, "length"), -1),
        (("streams", 0, "key_hex"), "XYZ"),
        (("breaches", 0, "metric"), "latency"),
        (("breaches", 0, "value_source"), "unknown"),  # unknown must have value null
        (("server", "mode"), "sentinel"),
        (("schema_version",), 1),  # 1 had "failing" where 2 says "stuck"
    ],
)
def test_the_schema_rejects_what_a_consumer_could_not_rely_on(capsys, server, r, path, value):
    """The schema is not vacuous: one wrong field in a real, valid document is caught."""
    arrange(r)
    _, doc = status_json(capsys, server.url, "--max-pending", "0")
    assert_valid(doc)
    bad = copy.deepcopy(doc)
    *parents, last = path
    target = bad
    for step in parents:
        target = target[step]
    target[last] = value
    assert schema_errors(bad)
