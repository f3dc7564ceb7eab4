"""What routes depend on, as Annotated aliases over the app's `Resources`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status

from servicekit import resources_dependency

from .faults import FaultInjector
from .mailer import Mailer
from .resources import HostIdentity, Resources
from .settings import Settings

get_resources = resources_dependency(Resources)
ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def _settings(resources: ResourcesDep) -> Settings:
    return resources.settings


async def _mailer(resources: ResourcesDep) -> Mailer:
    return resources.mailer


async def _host(resources: ResourcesDep) -> HostIdentity:
    return resources.host


async def _injector(resources: ResourcesDep) -> FaultInjector:
    if resources.faults is None:  # the admin routes exist only with fault injection on
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Fault injection is not enabled")
    return resources.faults


SettingsDep = Annotated[Settings, Depends(_settings)]
MailerDep = Annotated[Mailer, Depends(_mailer)]
HostDep = Annotated[HostIdentity, Depends(_host)]
InjectorDep = Annotated[FaultInjector, Depends(_injector)]


async def inject(resources: ResourcesDep) -> None:
    """Route dependency: suffer the current faults, if fault injection is on."""
    if resources.faults is not None:
        await resources.faults.apply()
