"""Fixtures: the notification API of notification V1 in-process (tests/unit/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.inprocess import Notification, client


@pytest.fixture
async def api(notification: Notification) -> AsyncIterator[httpx.AsyncClient]:
    """The notification API, relative to /notification."""
    async with client(notification.asgi, "http://notification/notification") as http:
        yield http
