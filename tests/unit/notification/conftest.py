"""Fixtures: notification V1 in-process, mailing an in-process SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.inprocess import (
    Notification,
    client,
    notification_service,
    notification_settings,
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
async def api(notification: Notification) -> AsyncIterator[httpx.AsyncClient]:
    """The notification API, relative to /notification."""
    async with client(notification.asgi, "http://notification/notification") as http:
        yield http
