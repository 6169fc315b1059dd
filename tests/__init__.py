"""streamtop's tests, one directory per layer (see CONTRIBUTING.md, "Where a test goes"):

- `unit/`: no server, no subprocess: parsers, model, history, formatting, numbers, widgets alone.
- `integration/`: real server processes (conftest fixtures), in-process: collector, cluster,
  actions, connection, monitor, status and produce via `cli.main`, demo workload.
- `ui/`: the Textual app, panels and dialogs driven by the pilot, and SVG snapshots.
- `e2e/`: the real console script (or a script) as a subprocess, in a pipe, a pty or tmux;
  every test here is marked `e2e` automatically.
- `support/`: helpers imported as `tests.support.<module>`; not tests.
"""
