"""End-to-end tests: the real console script as a user runs it (a subprocess in a pipe, a pty or
tmux). Marked `e2e` by tests/conftest.py; `pytest -m "not e2e"` leaves them out."""
