"""Payload decoders on entries built exactly as the libraries build them (FastStream's own
BinaryMessageFormatV1.encode, taskiq's JSONFormatter), plus JSON, msgpack, text and bytes."""

from __future__ import annotations

import asyncio
import json

import msgpack
import pytest

from streamtop.pipeline.decode import decode_entry, format_for, parse_decode_arg, spec_from_args
from streamtop.pipeline.decode import faststream as fs_decoder
from streamtop.pipeline.decode.preview import pairs, varying_keys
from streamtop.pipeline.model import label

faststream_parser = pytest.importorskip("faststream.redis.parser", reason="faststream[redis] not installed")
taskiq_message = pytest.importorskip("taskiq.message", reason="taskiq not installed")


def faststream_entry(
    body: object, headers: dict[str, str] | None = None, correlation_id: str = "c0ffee"
) -> tuple[tuple[bytes, bytes], ...]:
    data = asyncio.run(
        faststream_parser.BinaryMessageFormatV1.encode(
            message=body, reply_to=None, headers=headers, correlation_id=correlation_id
        )
    )
    return ((b"__data__", data),)


def taskiq_entry(task_name: str, args: list, kwargs: dict, task_id: str = "0f3c") -> tuple:
    from taskiq.formatters.json_formatter import JSONFormatter

    message = taskiq_message.TaskiqMessage(
        task_id=task_id, task_name=task_name, labels={"retry": 1}, args=args, kwargs=kwargs
    )
    return ((b"data", JSONFormatter().dumps(message).message),)


def test_faststream_envelope_headers_and_json_body() -> None:
    entry = faststream_entry({"event": "signup", "user": 7}, headers={"x-tenant": "acme"})
    assert entry[0][1].startswith(b"\x89BIN\r\n\x1a\n")
    decoded = decode_entry(entry)
    assert decoded is not None and decoded.format == "faststream"
    assert decoded.body == {"event": "signup", "user": 7}
    headers = dict(decoded.headers)
    assert headers["correlation_id"] == "c0ffee"
    assert headers["content-type"] == "application/json"
    assert headers["x-tenant"] == "acme"


def test_faststream_text_body_and_what_the_library_parses_back() -> None:
    entry = faststream_entry("hello world")
    decoded = decode_entry(entry)
    assert decoded is not None and decoded.body == "hello world"
    body, headers = faststream_parser.BinaryMessageFormatV1.parse(entry[0][1])
    assert (body.decode(), headers) == (decoded.body, dict(decoded.headers))


def test_faststream_envelope_cut_short_is_not_one() -> None:
    data = faststream_entry({"a": 1})[0][1]
    assert fs_decoder.parse_binary(data[:20]) is None
    decoded = decode_entry(((b"__data__", data[:20]),))
    assert decoded is not None and decoded.format == "bytes"


def test_faststream_legacy_json_envelope() -> None:
    doc = json.dumps({"data": '{"n": 1}', "headers": {"content-type": "application/json"}}).encode()
    decoded = decode_entry(((b"__data__", doc),))
    assert decoded is not None and (decoded.format, decoded.body) == ("faststream", {"n": 1})


def test_taskiq_task_previews_task_name_first() -> None:
    decoded = decode_entry(taskiq_entry("app.tasks:send_mail", [1, "x"], {"to": "a@b"}))
    assert decoded is not None and decoded.format == "taskiq"
    labels = [label for label, _ in pairs(decoded)]
    assert labels[0] == "task_name"
    assert labels.index("args") < labels.index("task_id")
    assert dict(pairs(decoded))["args"] == '[1,"x"]'


def test_json_field_object_becomes_the_body_and_varying_keys_lead() -> None:
    rows = [decode_entry(((b"payload", json.dumps({"source": "web", "order": n}).encode()),)) for n in (1, 2)]
    assert all(d is not None and d.format == "json" for d in rows)
    varying = varying_keys(d.body for d in rows if d)
    assert varying == {"order"}
    assert [label for label, _ in pairs(rows[0], varying)] == ["order", "source"]


def test_msgpack_only_when_it_parses_cleanly() -> None:
    packed = msgpack.packb({"temp": 21.5, "raw": b"\x00\xff"})
    decoded = decode_entry(((b"m", packed),))
    assert decoded is not None and decoded.format == "msgpack"
    assert decoded.body["temp"] == 21.5
    # "5" is the msgpack integer 53 too, but text it is; trailing bytes are not clean msgpack
    assert decode_entry(((b"n", b"5"),)).body == {"n": "5"}  # type: ignore[union-attr]
    assert decode_entry(((b"m", packed + b"\x01"),)).format == "bytes"  # type: ignore[union-attr]


def test_text_and_escaped_bytes() -> None:
    decoded = decode_entry(((b"sensor", b"s-1"), (b"blob", b"\xff\x00ok")))
    assert decoded is not None and decoded.format == "bytes"
    # raw (the bytes that are not UTF-8 as surrogateescape); escaped once, where shown
    assert decoded.body == {"sensor": "s-1", "blob": "\udcff\x00ok"}
    assert label(decoded.body["blob"]) == "\\xff\\x00ok"


def test_forced_formats_and_raw() -> None:
    entry = taskiq_entry("t", [], {})
    assert decode_entry(entry, "raw") is None
    forced = decode_entry(entry, "text")
    assert forced is not None and forced.format == "text" and isinstance(forced.body["data"], str)
    assert decode_entry(((b"n", b"5"),), "json").body == {"n": 5}  # type: ignore[union-attr]
    assert decode_entry(entry, "faststream") is None  # not its envelope: shown as fields


def test_decode_arguments() -> None:
    assert parse_decode_arg("orders=json") == (b"orders", "json")
    assert parse_decode_arg("a=b=taskiq") == (b"a=b", "taskiq")
    assert parse_decode_arg("raw") == (None, "raw")
    with pytest.raises(ValueError, match="unknown format"):
        parse_decode_arg("orders=yaml")
    with pytest.raises(ValueError, match="empty"):
        parse_decode_arg("=json")
    spec = spec_from_args(["text", "jobs=taskiq"])
    assert format_for(spec, b"jobs") == "taskiq" and format_for(spec, b"other") == "text"
    assert format_for({}, b"x") == "auto"
