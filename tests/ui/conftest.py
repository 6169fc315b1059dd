"""Fixtures of the UI tests: `host`, the dialogs' host app on the actions of the Valkey 9.1 server
(tests.support.dialogs), at the module's HOST_SIZE (default 100x40)."""

from __future__ import annotations

import pytest

from tests.support.dialogs import hosted


@pytest.fixture
async def host(request, server):
    async with hosted(server, getattr(request.module, "HOST_SIZE", (100, 40))) as app_and_pilot:
        yield app_and_pilot
