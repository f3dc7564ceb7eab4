"""What routes depend on, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from servicekit import from_app_state

from ..notification_client import NotificationClient
from ..settings import Settings


def _session(request: Request) -> Iterator[Session]:
    yield from request.app.state.database.session()


SessionDep = Annotated[Session, Depends(_session)]
NotifierDep = Annotated[NotificationClient, Depends(from_app_state("notifier"))]
SettingsDep = Annotated[Settings, Depends(from_app_state("settings"))]
