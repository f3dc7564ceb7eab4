"""What routes depend on, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ..notification_client import NotificationClient
from ..settings import Settings


def _session(request: Request) -> Iterator[Session]:
    yield from request.app.state.database.session()


def _notifier(request: Request) -> NotificationClient:
    notifier: NotificationClient = request.app.state.notifier
    return notifier


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(_session)]
NotifierDep = Annotated[NotificationClient, Depends(_notifier)]
SettingsDep = Annotated[Settings, Depends(_settings)]
