"""One poll for everyone watching (issue 31): `serve` and `web` publish each poll's snapshot over
HTTP (document.py: the JSON document, api.py: the hub's side), `--attach URL` reads it
(attach.py: a session fed by the hub instead of a collector)."""
