"""Fixtures: user management in-process on SQLite, calling notification V1 in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.inprocess import (
    Notification,
    Usermgmt,
    client,
    notification_service,
    notification_settings,
    usermgmt_service,
    usermgmt_settings,
)
from tests.support.smtp import SmtpServer


@pytest.fixture
async def notification(smtp: SmtpServer) -> AsyncIterator[Notification]:
    settings = notification_settings(
        AWS_MAIL_SERVER_HOST="127.0.0.1", AWS_MAIL_SERVER_PORT=smtp.port
    )
    async with notification_service(settings) as service:
        yield service


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
