"""A child that dies with its parent: `streamtop web`'s page processes (issue 31).

textual-serve starts one dashboard process per page. When `streamtop web` is killed with SIGKILL
it cannot stop them, and they went on under PID 1 with their connections. The web process names
itself in the environment it hands its pages (DIE_WITH); a page asks the kernel for SIGKILL when
its parent goes (Linux prctl PR_SET_PDEATHSIG, through ctypes), then checks that its parent is
still the one named: a parent gone before the request is not noticed by the kernel.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

DIE_WITH = "STREAMTOP_DIE_WITH"  # the PID of the process whose death ends this one
PR_SET_PDEATHSIG = 1


def die_with_parent(environ: dict[str, str] | None = None) -> bool:
    """When DIE_WITH names a PID: die with that parent (True when the kernel took the request).
    A parent already gone ends this process at once; elsewhere than Linux, nothing is done."""
    env = os.environ if environ is None else environ
    wanted = env.get(DIE_WITH)
    if not wanted or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        ok = libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError, ValueError):
        return False
    if str(os.getppid()) != wanted:  # the parent went before the request: nobody will signal
        os.kill(os.getpid(), signal.SIGKILL)
    return ok
