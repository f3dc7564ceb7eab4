"""GET/PUT/DELETE /notification/admin/faults: read and change this process's faults."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from ..deps import InjectorDep
from . import Faults

log = logging.getLogger(__name__)

admin = APIRouter(prefix="/admin/faults", tags=["fault injection"])


@admin.get("")
async def current_faults(injector: InjectorDep) -> Faults:
    return injector.faults


@admin.put("")
async def set_faults(faults: Faults, injector: InjectorDep) -> Faults:
    """Replace the faults; they apply to the next call."""
    injector.faults = faults
    log.warning("fault injection set: %s", faults.model_dump(by_alias=True))
    return faults


@admin.delete("")
async def clear_faults(injector: InjectorDep) -> Faults:
    """Back to normal service."""
    injector.faults = Faults()
    log.warning("fault injection cleared")
    return injector.faults
