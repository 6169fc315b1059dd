"""Unit tests: no server process, no subprocess, no network; pure functions and objects."""
