"""streamtop: a live terminal dashboard for Redis Streams."""

__version__ = "0.1.0"
