"""The actions layer: every mutation the UI can ask for, validated, guarded and reported as a value.

`from streamtop.actions import Actions, ActionResult, ValidationError` is the interface the UI uses;
read-only mode is a refusal result (ok=False, message "read-only mode: ... refused"), not an exception.
"""

from .base import (
    MAX_BURST,
    ActionResult,
    ValidationError,
    check_id,
    check_ids,
    check_name,
    parse_idle,
    parse_int,
)
from .core import Actions
from .trim import GroupImpact, TrimPreview

__all__ = [
    "MAX_BURST",
    "ActionResult",
    "Actions",
    "GroupImpact",
    "TrimPreview",
    "ValidationError",
    "check_id",
    "check_ids",
    "check_name",
    "parse_idle",
    "parse_int",
]
