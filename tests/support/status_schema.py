"""Checking a `streamtop status --json` document against the JSON Schema shipped in the package."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from streamtop.commands.status import json_schema


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(json_schema())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_errors(doc: Any) -> list[str]:
    """Every way `doc` breaks the schema, one line each (where, then what)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator().iter_errors(doc)
    ]


def assert_valid(doc: Any) -> None:
    errors = schema_errors(doc)
    assert not errors, "\n".join(errors)
