"""Routes that call the notification service. They are async: httpx awaits the network."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from ..errors import UPSTREAM_ERRORS
from .deps import NotifierDep

router = APIRouter(tags=["notification"])


@router.get("/notification-xray", responses=UPSTREAM_ERRORS)
async def notification_xray(notifier: NotifierDep) -> dict[str, Any]:
    """The call chain the service map shows: user management -> notification."""
    return await notifier.xray()


@router.get(
    "/notification-health-status", response_class=PlainTextResponse, responses=UPSTREAM_ERRORS
)
async def notification_health_status(notifier: NotifierDep) -> str:
    return await notifier.health_status()


@router.get(
    "/notification-service-info", response_class=PlainTextResponse, responses=UPSTREAM_ERRORS
)
async def notification_service_info(notifier: NotifierDep) -> str:
    return await notifier.info()
