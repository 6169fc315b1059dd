"""Helpers shared by the tests (imported as `tests.support.<module>`): waiting, real-server
arrangements, a connection-cutting proxy, the UI app factory and constructed sample snapshots."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # tests/support/ -> the repository
