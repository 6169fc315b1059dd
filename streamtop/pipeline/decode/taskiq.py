"""taskiq tasks (taskiq-redis RedisStreamBroker): one field `data` holding taskiq's
BrokerMessage.message, the TaskiqMessage as JSON (task_id, task_name, labels, labels_types, args,
kwargs) with taskiq's default JSON formatter."""

from __future__ import annotations

import json

from streamtop.pipeline.decode.types import Decoded, Fields

FIELD = b"data"
REQUIRED = ("task_id", "task_name")


def decode(entry_fields: Fields) -> Decoded | None:
    data = dict(entry_fields).get(FIELD)
    if data is None or not data.lstrip().startswith(b"{"):
        return None
    try:
        task = json.loads(data)
    except ValueError:
        return None
    if not isinstance(task, dict) or not all(isinstance(task.get(k), str) for k in REQUIRED):
        return None
    return Decoded("taskiq", task)
