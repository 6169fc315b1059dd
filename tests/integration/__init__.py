"""Integration tests: streamtop's layers against real server processes, in this process."""
