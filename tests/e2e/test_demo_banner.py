"""`streamtop demo --no-ui` says which server it runs on (issue 26): one it started ("started
Valkey 9.1.2 on ...", stopped with it) or one that was there already ("using the ... server
already on ... (keys left on exit; --cleanup to delete)"). Before, both printed the same line."""

from __future__ import annotations

import redis

from streamtop.demo.workload import STREAM
from streamtop.embedded import free_port
from tests.e2e.test_demo_cli import demo  # noqa: F401 - the fixture
from tests.support.waiting import wait_for


def test_port_alone_says_it_started_valkey(demo):  # noqa: F811
    port = free_port()
    d = demo("--no-ui", "--port", str(port))
    assert d.line is not None and d.line.startswith("streamtop demo: started Valkey 9.1"), d.line
    assert f" on redis://127.0.0.1:{port}/0" in d.line and "ctrl+c stops both" in d.line
    assert d.terminate() == 0


def test_a_server_already_on_the_port_is_named_and_its_keys_stay(server, demo):  # noqa: F811
    d = demo("--no-ui", "--port", str(server.port))
    assert d.line == (
        f"streamtop demo: using the Valkey 9.1.2 server already on redis://127.0.0.1:{server.port}/0 "
        "(keys left on exit; --cleanup to delete); the workload runs on it (ctrl+c to stop)"
    ), d.line
    with redis.Redis(port=server.port) as r:
        wait_for(lambda: r.exists(STREAM), "the workload on it")
        assert d.terminate() == 0
        assert r.exists(STREAM)
