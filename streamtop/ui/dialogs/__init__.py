"""The action dialogs, one module per action: ask, check, confirm what deletes, run in a worker,
post the result to the host app (`ActionFinished`). No Redis call here: everything goes through
the host's `Actions`. `streamtop.ui.registry` says which key opens which dialog and when.
"""

from .ack import open_ack, open_ack_without_data
from .base import ActionDialog
from .claim import ClaimDialog
from .confirm import ConfirmDialog
from .deadletter import DeadLetterDialog
from .group import (
    ConsumerDeleteDialog,
    GroupCreateDialog,
    GroupMenu,
    GroupSetIdDialog,
    destroy_group,
    open_group_menu,
)
from .names import Names
from .produce import BurstDialog, produce_one
from .redrive import RedriveDialog
from .shared import ActionFinished, DialogOpener, host_actions
from .trim import TrimDialog

__all__ = [
    "ActionDialog",
    "ActionFinished",
    "BurstDialog",
    "ClaimDialog",
    "ConfirmDialog",
    "ConsumerDeleteDialog",
    "DeadLetterDialog",
    "DialogOpener",
    "GroupCreateDialog",
    "GroupMenu",
    "GroupSetIdDialog",
    "Names",
    "RedriveDialog",
    "TrimDialog",
    "destroy_group",
    "host_actions",
    "open_ack",
    "open_ack_without_data",
    "open_group_menu",
    "produce_one",
]
