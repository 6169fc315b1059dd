"""What an action key acts on: handed by the app to streamtop.ui.registry.open_dialog."""

from __future__ import annotations

from dataclasses import dataclass

from streamtop.pipeline.model import GroupInfo, StreamInfo

from ..options import DASHBOARD_DEFAULTS

READ_ONLY_REASON = "started with --read-only"


@dataclass(frozen=True, slots=True)
class ActionContext:
    """The selection at the moment the key was pressed (a snapshot of it, not a live view)."""

    key: bytes | None = None  # consumers below: the most recently active first
    group: bytes | None = None
    stream: StreamInfo | None = None
    group_info: GroupInfo | None = None
    consumers: tuple[bytes, ...] = ()
    selected_pending: tuple[str, ...] = ()
    read_only: bool = False
    read_only_reason: str = READ_ONLY_REASON  # what the refusal says (--attach: give --url)
    # what the dashboard calls stuck: the claim dialog's default min idle
    stuck_ms: int = DASHBOARD_DEFAULTS.stuck_ms
    cursor_pending: str | None = None  # the pending entry under the cursor (`a` with nothing marked)
    poison: int = DASHBOARD_DEFAULTS.poison_deliveries  # the dead-letter dialog's default threshold
    test_stream: bool = False  # the demo's own stream: test events go there without asking

    @property
    def pending_targets(self) -> tuple[str, ...]:
        """What an action on pending entries takes: the marked ones, else the one under the cursor."""
        if self.selected_pending:
            return self.selected_pending
        return (self.cursor_pending,) if self.cursor_pending else ()

    def stream_key(self) -> bytes:
        """The selected stream, for an action that needs one (the registry checked it)."""
        if self.key is None:
            raise ValueError("no stream selected")
        return self.key

    def group_name(self) -> bytes:
        """The selected group, for an action that needs one (the registry checked it)."""
        if self.group is None:
            raise ValueError("no consumer group selected")
        return self.group
