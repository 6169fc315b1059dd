"""The actions layer: every mutation the UI can ask for, validated, guarded and reported as a value.

`from streamtop.actions import Actions, ActionResult, ValidationError` is the interface the UI uses;
read-only mode is a refusal result (ok=False, read_only=True, message "read-only mode: ... refused"),
not an exception. Each action's result type lives in its family's module (ack.AckResult, ...).
"""

from .ack import AckResult
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
from .claim import ClaimResult
from .context import Context
from .core import Actions
from .deadletter import DeadLetterResult
from .deleted import AckWithoutData, WithoutData
from .gone import GoneDeleted, GonePreview
from .group import ConsumerDeleted, ConsumerPreview, GroupCreated, GroupDestroyed, GroupIdSet, GroupPreview
from .pending import PendingIds, PendingList
from .produce import BurstResult, ProduceResult
from .redrive import RedriveResult
from .trim import GroupImpact, TrimPreview, TrimPreviewResult, TrimResult

__all__ = [
    "MAX_BURST",
    "AckResult",
    "AckWithoutData",
    "ActionResult",
    "Actions",
    "BurstResult",
    "ClaimResult",
    "ConsumerDeleted",
    "ConsumerPreview",
    "Context",
    "DeadLetterResult",
    "GoneDeleted",
    "GonePreview",
    "GroupCreated",
    "GroupDestroyed",
    "GroupIdSet",
    "GroupImpact",
    "GroupPreview",
    "PendingIds",
    "PendingList",
    "ProduceResult",
    "RedriveResult",
    "TrimPreview",
    "TrimPreviewResult",
    "TrimResult",
    "ValidationError",
    "check_id",
    "check_ids",
    "check_name",
    "parse_idle",
    "parse_int",
    "WithoutData",
]
