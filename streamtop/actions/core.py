"""The actions' two tables: `Actions`, the facade the UI, the commands and the tests call (one line
per action), and `ACTIONS`, each action a person runs with its key, its dialog and its CLI
subcommand (read by streamtop.ui.registry and streamtop.cli; nothing else lists them).

Each action is a function of its family's module (produce, ack, pending, deleted, claim, trim, group,
gone, deadletter, redrive, keys) over a `Context` (the typed client, what the server can do, the
read-only flag; context.py). `Actions` is that context, and each line below binds a family's
function as a method: `actions.ack(key, group, ids)` is `ack.ack(actions, key, group, ids)`.

Contract (the UI codes against it):
- every action checks its input first and raises `ValidationError` before anything is sent;
- in read-only mode every mutation returns its result with `ok=False`, `read_only=True` and the
  message "read-only mode: ... refused" without touching the server (a result, not an exception:
  the UI shows it like any other refusal); previews are reads and still work;
- server and connection errors (NOGROUP, WRONGTYPE, NOPERM, BUSYGROUP, connection lost) come back
  as `ok=False` with one plain line, never as an exception;
- each action returns its own frozen result (AckResult, ClaimResult, ...; ActionResult's fields and
  the action's own), the same type on every path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from . import ack as _ack
from . import claim as _claim
from . import deadletter as _deadletter
from . import deleted as _deleted
from . import gone as _gone
from . import group as _group
from . import keys as _keys
from . import pending as _pending
from . import produce as _produce
from . import redrive as _redrive
from . import trim as _trim
from .context import Context


@dataclass(eq=False)
class Actions(Context):
    """Mutations with validation, a read-only guard and results as values."""

    # produce
    produce_one = _produce.produce_one
    produce_burst = _produce.produce_burst
    # ack and the PEL
    ack = _ack.ack
    ack_consumer = _ack.ack_consumer
    pending_list = _pending.pending_list
    pending_ids = _pending.pending_ids
    without_data_preview = _deleted.without_data_preview
    ack_without_data = _deleted.ack_without_data
    # claim
    claim_auto = _claim.claim_auto
    claim_from = _claim.claim_from
    claim_ids = _claim.claim_ids
    # trim
    trim_preview = _trim.trim_preview
    trim = _trim.trim
    # groups and consumers
    group_create = _group.group_create
    group_setid = _group.group_setid
    group_preview = _group.group_preview
    group_destroy = _group.group_destroy
    consumer_preview = _group.consumer_preview
    consumer_delete = _group.consumer_delete
    gone_preview = _gone.gone_preview
    delete_gone = _gone.delete_gone
    key_type = _keys.key_type
    entry = _keys.entry
    # dead-letter and redrive
    dead_letter = _deadletter.dead_letter
    redrive = _redrive.redrive

    def default_dlq(self, key: bytes) -> bytes:
        """`<key>:dlq`, or `{<key>}:dlq` in a cluster (deadletter.default_dlq)."""
        return _deadletter.default_dlq(self.server, key)


class Needs(Enum):
    """What must be selected for an action to start; checked before its dialog opens."""

    NOTHING = 0
    STREAM = 1
    GROUP = 2  # a stream and one of its groups
    MARKED = 3  # a group and marked pending entries (or the pending entry under the cursor)


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """One action a person runs: `keys` and `label`, `description` (the help and the palette)
    and `needs` for the dashboard; `dialog`, its opener in streamtop.ui.dialogs as
    "module:attribute" (imported by the registry); `command`, its subcommand (the module
    streamtop.commands.<command>: add_arguments, run) with `command_help`, "" when the dashboard
    alone runs it."""

    name: str
    keys: tuple[str, ...]
    label: str
    description: str
    needs: Needs
    dialog: str
    command: str = ""
    command_help: str = ""
    writes: bool = True
    footer: bool = False


ACTIONS: tuple[ActionEntry, ...] = (
    ActionEntry(
        "produce",
        ("e",),
        "Produce",
        "add one test sensor event",
        Needs.STREAM,
        dialog="produce:produce_one",
        footer=True,
    ),
    ActionEntry(
        "burst",
        ("E",),
        "Burst",
        "add N test events (a progress bar; esc stops)",
        Needs.STREAM,
        dialog="produce:BurstDialog.open",
    ),
    ActionEntry(
        "ack",
        ("a",),
        "Ack",
        "acknowledge the marked pending entries (or the cursor's)",
        Needs.MARKED,
        dialog="ack:open_ack",
        command="ack",
        command_help="ack entries by ID, all of a consumer, or all without data",
        footer=True,
    ),
    ActionEntry(
        "ack_without_data",
        ("A",),
        "Ack without data",
        "ack the pending entries whose data is gone (trimmed or deleted)",
        Needs.GROUP,
        dialog="ack:open_ack_without_data",
    ),
    ActionEntry(
        "claim",
        ("c",),
        "Claim",
        "claim every stuck entry, what one consumer holds, or the marked ones",
        Needs.GROUP,
        dialog="claim:ClaimDialog.open",
        command="claim",
        command_help="claim stuck entries, or what one consumer holds",
        footer=True,
    ),
    ActionEntry(
        "trim",
        ("t",),
        "Trim",
        "trim the stream (MAXLEN or MINID) after a preview",
        Needs.STREAM,
        dialog="trim:TrimDialog.open",
        command="trim",
        command_help="trim a stream (MAXLEN or MINID) after a preview",
        footer=True,
    ),
    ActionEntry(
        "group",
        ("g",),
        "Group ops",
        "group operations: create, set ID, delete a consumer, destroy",
        Needs.STREAM,
        dialog="group:open_group_menu",
        command="group",
        command_help="create a group, set its ID, delete a consumer, destroy it",
    ),
    ActionEntry(
        "dead_letter",
        ("D",),
        "Dead-letter",
        "move poison entries to <key>:dlq and ack them",
        Needs.GROUP,
        dialog="deadletter:DeadLetterDialog.open",
        command="deadletter",
        command_help="move poison entries to a dead-letter stream",
    ),
    ActionEntry(
        "redrive",
        ("R",),
        "Redrive",
        "move dead-lettered entries back to their stream (a dry run first)",
        Needs.STREAM,
        dialog="redrive:RedriveDialog.open",
        command="redrive",
        command_help="move dead-lettered entries back to their stream",
    ),
)
