"""The least-privilege user of the ACL tests: the watching ACL of docs/security.md (the docs test
checks the page says exactly this), the user, and what the server refused it."""

from __future__ import annotations

import redis

# The ACLs of docs/security.md (Redis 7+ / Valkey; on Redis 6.2 use `~*` for `%R~*`).
WATCH_ACL = (
    "resetkeys %R~* resetchannels -@all "
    "+info +ping +scan +type +xinfo +xlen +xpending +xrange +xrevrange +xread +time"
)
NAMING = {"client|setname", "client|setinfo"}  # best effort: refused, ignored
USER, PASSWORD = "watcher", "watcher-pw"


def url(srv) -> str:
    return f"redis://{USER}:{PASSWORD}@127.0.0.1:{srv.port}/0"


def set_user(r: redis.Redis, *extra: str, rules: list[str] | None = None) -> None:
    """(Re)create the user with the watching rules (or `rules`) and `extra`; reset the ACL LOG."""
    rules = (WATCH_ACL.split() if rules is None else rules) + [x for e in extra for x in e.split()]
    r.execute_command("ACL", "SETUSER", USER, "reset", "on", f">{PASSWORD}", *rules)
    r.execute_command("ACL", "LOG", "RESET")


def denied(r: redis.Redis) -> set[str]:
    """What the user was refused, beyond the best-effort naming."""
    return {str(e["object"]) for e in r.acl_log(count=100)} - NAMING
