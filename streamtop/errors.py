"""The errors that end a command with one line and exit code 1, raised in the connection layer
and caught as far up as the UI: here, below every layer, so the UI need not import connection."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad connection options: the message is shown as is, one line, exit code 1."""


class ConnectError(RuntimeError):
    """The server could not be reached or refused us: the message is one line, password-free."""

    exit_code = 1


class ClusterOutage(ConnectError):
    """Part of a cluster is out (a slot served by no node, CLUSTERDOWN, slots still moving):
    `streamtop status` ends with exit code 2 for it, as for a node down; one line, like the rest."""

    exit_code = 2
