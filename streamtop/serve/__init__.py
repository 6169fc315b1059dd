"""`streamtop serve`: the Prometheus exporter (metrics.py turns a poll into metric families,
poller.py polls once per interval, command.py is the subcommand and its HTTP server)."""
