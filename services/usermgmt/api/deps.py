"""What routes depend on, as Annotated aliases over the app's `Resources`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from servicekit import resources_dependency

from ..db import Database
from ..notification_client import NotificationClient
from ..resources import Resources
from ..settings import Settings

get_resources = resources_dependency(Resources)
ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def _database(resources: ResourcesDep) -> Database:
    return resources.database


async def _notifier(resources: ResourcesDep) -> NotificationClient:
    return resources.notifier


async def _settings(resources: ResourcesDep) -> Settings:
    return resources.settings


DatabaseDep = Annotated[Database, Depends(_database)]
NotifierDep = Annotated[NotificationClient, Depends(_notifier)]
SettingsDep = Annotated[Settings, Depends(_settings)]
