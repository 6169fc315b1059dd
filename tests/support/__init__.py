"""Helpers shared by the tests (imported as `tests.support.<module>`): waiting, real-server
arrangements, a connection-cutting proxy, the UI app factory and constructed sample snapshots."""
