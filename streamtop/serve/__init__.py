"""`streamtop serve`: the Prometheus exporter.

metrics.py turns one poll (Snapshot, History, health verdicts) into metric families (pure);
exposition.py holds the families as data and writes the text format; poller.py polls when a scrape
finds the page old (or every interval while --record or a viewer holds the clock) and keeps the last
page; http.py serves that page
(prometheus_client is not used at run time: the tests parse every page with it);
command.py is the subcommand (add_arguments, run).
"""
