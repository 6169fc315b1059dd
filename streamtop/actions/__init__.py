"""The actions layer: every mutation the UI can ask for, validated, guarded and reported as a value.

`from streamtop.actions import Actions, ActionResult, ValidationError` is the interface the UI uses;
read-only mode is a refusal result (ok=False, read_only=True, message "read-only mode: ...
refused"), not an exception. Each action's own result type lives in its family's module
(`streamtop.actions.claim.ClaimResult`, ...); docs/internals-actions.md tells the layout.
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
from .context import Context
from .core import Actions
from .trim import GroupImpact, TrimPreview

__all__ = [
    "MAX_BURST",
    "ActionResult",
    "Actions",
    "Context",
    "GroupImpact",
    "TrimPreview",
    "ValidationError",
    "check_id",
    "check_ids",
    "check_name",
    "parse_idle",
    "parse_int",
]
