"""Fixtures: user management in-process on SQLite, calling notification V1 in-process
(tests/unit/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.inprocess import (
    Notification,
    Usermgmt,
    client,
    usermgmt_service,
    usermgmt_settings,
)


@pytest.fixture
async def usermgmt(tmp_path: Path, notification: Notification) -> AsyncIterator[Usermgmt]:
    async with usermgmt_service(
        usermgmt_settings(tmp_path), notification_app=notification.asgi
    ) as service:
        yield service


@pytest.fixture
async def api(usermgmt: Usermgmt) -> AsyncIterator[httpx.AsyncClient]:
    """User management's API, relative to /usermgmt."""
    async with client(usermgmt.asgi, "http://usermgmt/usermgmt") as http:
        yield http
