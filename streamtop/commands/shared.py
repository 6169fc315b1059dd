"""What every action command shares: connecting, the confirmation, the output and the exit code.

- `--dry-run` runs only the action's read (its preview) and prints what would happen;
- `--json` prints one JSON object on stdout (names escaped as in `status`, with `*_hex` siblings);
- anything that deletes or moves asks "Proceed? [y/N]" on a terminal, and needs `--yes` when stdin
  is not one (a cron job, a pipe): without it the command is refused, and nothing is sent;
- exit 0 done, 1 error (bad input, unreachable server, a server error), 2 nothing matched or refused
  (declined, read-only, no --yes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from streamtop.pipeline.connection import AsyncClient, ConnectionSpec, connect
from streamtop.pipeline.model import ServerInfo, label
from streamtop.pipeline.render import clean

from ..actions import ActionResult, Actions, ValidationError
from ..cliargs import UsageError, aspec_from_args

EXIT_DONE, EXIT_ERROR, EXIT_NOTHING = 0, 1, 2


class Refused(Exception):
    """The command did not run: declined, or no --yes without a terminal (exit 2)."""


def add_common(p: argparse.ArgumentParser, *, changes: bool = True) -> None:
    g = p.add_argument_group("output and safety")
    g.add_argument("--dry-run", action="store_true", help="print what would happen; change nothing")
    g.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    if changes:
        g.add_argument(
            "--yes",
            "-y",
            action="store_true",
            help="do not ask for confirmation (required when stdin is not a terminal)",
        )
    g.add_argument(
        "--read-only",
        action="store_true",
        help="refuse every change (as the dashboard's --read-only): only --dry-run works",
    )


def name(value: bytes | None) -> str | None:
    """A key, group or consumer name for output: escaped text, never markup or raw bytes."""
    return None if value is None else label(value)


def named(prefix: str, value: bytes | None) -> dict[str, str | None]:
    return {prefix: name(value), f"{prefix}_hex": None if value is None else value.hex()}


@dataclass(frozen=True, slots=True)
class Connected:
    """A command's connection: the client it connected with (`seed`, the node named in a cluster),
    the client for key commands (`keys`: in a cluster one that routes each key to its node; the
    seed otherwise) and what the server is."""

    seed: AsyncClient
    keys: AsyncClient
    server: ServerInfo


@asynccontextmanager
async def connected(spec: ConnectionSpec, *, keep_seed: bool = False) -> AsyncIterator[Connected]:
    """Connect, then in a cluster make the client that routes each key; both closed at the end.
    Without `keep_seed` a cluster's seed is closed at once (a command that sends only key
    commands); errors propagate (each command words its own)."""
    from ..session import make_action_client

    seed, server = await connect(spec)
    keys: AsyncClient = seed
    try:
        if server.mode == "cluster":
            keys = make_action_client(spec, server)
            if not keep_seed:
                await seed.aclose()
        yield Connected(seed, keys, server)
    finally:
        if keys is not seed:
            await keys.aclose()
        if keys is seed or keep_seed:
            await seed.aclose()


@asynccontextmanager
async def actions_for(args: argparse.Namespace) -> AsyncIterator[Actions]:
    """Actions on a client of the given server (in a cluster, one that routes each key)."""
    from ..session import check_mode

    spec = await aspec_from_args(args)
    async with connected(spec) as conn:
        check_mode(spec, conn.server)
        yield Actions(conn.keys, conn.server, read_only=getattr(args, "read_only", False))


def confirm(args: argparse.Namespace, question: str) -> None:
    """Ask on a terminal; without one, --yes must have been given. Raises Refused."""
    if getattr(args, "yes", False):
        return
    if not sys.stdin.isatty():
        raise Refused(
            f"refused: {question.rstrip('?')} needs --yes when stdin is not a terminal (nothing was changed)"
        )
    print(clean(question) + " [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise Refused("declined: nothing was changed")


def finish(
    args: argparse.Namespace, result: ActionResult, payload: Mapping[str, object], nothing: bool = False
) -> int:
    """Print the result (one line, or one JSON object) and choose the exit code."""
    refused = result.read_only
    code = EXIT_NOTHING if refused or nothing else EXIT_DONE if result.ok else EXIT_ERROR
    if args.json:
        out = {
            "ok": result.ok,
            "dry_run": bool(getattr(args, "dry_run", False)),
            "message": clean(result.message),
            **payload,
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    elif result.ok:
        print(clean(result.message))
    else:
        print(f"streamtop: {clean(result.message)}", file=sys.stderr)
    return code


def refused_output(args: argparse.Namespace, message: str) -> int:
    if args.json:
        sys.stdout.write(
            json.dumps(
                {"ok": False, "dry_run": bool(args.dry_run), "refused": True, "message": message},
                ensure_ascii=False,
            )
            + "\n"
        )
    print(f"streamtop: {message}", file=sys.stderr)
    return EXIT_NOTHING


def run_async(args: argparse.Namespace, job: Callable[[Actions], Awaitable[int]]) -> int:
    """Run one command: connection errors are one line and exit 1 (cli.main prints them); bad
    input found by the actions layer too; a refusal exits 2."""

    async def main() -> int:
        async with actions_for(args) as actions:
            return await job(actions)

    try:
        return asyncio.run(main())
    except ValidationError as exc:
        raise UsageError(str(exc)) from None
    except Refused as exc:
        return refused_output(args, str(exc))
