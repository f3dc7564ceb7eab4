"""What routes depend on, as Annotated aliases over the app's `Resources`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from servicekit import resources_dependency

from ..notification_client import NotificationClient
from ..resources import Resources
from ..settings import Settings

get_resources = resources_dependency(Resources)
ResourcesDep = Annotated[Resources, Depends(get_resources)]


def _session(resources: ResourcesDep) -> Iterator[Session]:
    yield from resources.database.session()


async def _notifier(resources: ResourcesDep) -> NotificationClient:
    return resources.notifier


async def _settings(resources: ResourcesDep) -> Settings:
    return resources.settings


SessionDep = Annotated[Session, Depends(_session)]
NotifierDep = Annotated[NotificationClient, Depends(_notifier)]
SettingsDep = Annotated[Settings, Depends(_settings)]
