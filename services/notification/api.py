"""The notification routes, as in the original service."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, status
from fastapi.responses import PlainTextResponse

from .deps import HostDep, MailerDep, SettingsDep, inject
from .schemas import Accepted, EmailRequest, XRayInfo

PREFIX = "/notification"
HEALTH_PATH = f"{PREFIX}/health-status"

router = APIRouter(prefix=PREFIX, tags=["notification"])
# The routes that do the work, and suffer injected faults; the health check never does.
work = APIRouter(dependencies=[Depends(inject)])


@router.get("/health-status", response_class=PlainTextResponse, tags=["health"])
async def health_status(settings: SettingsDep) -> str:
    return f"Notification Service is UP and Running - {settings.app_version}"


@work.get("/info", response_class=PlainTextResponse)
async def info(settings: SettingsDep, host: HostDep) -> str:
    return (
        f"Notification Service IP Address: {host.ip}\n"
        f"Hostname: {host.name}\n"
        f"Application Version: {settings.app_version}"
    )


@work.get("/xray")
async def xray(settings: SettingsDep, host: HostDep) -> XRayInfo:
    """Which version answered, and on which host: what the canary split is judged by."""
    return XRayInfo(
        applicationname="Notification Microservice",
        appversion=settings.app_version,
        message="Enabled AWS XRay",
        hostname=host.name,
    )


@work.post("/send", status_code=status.HTTP_202_ACCEPTED)
async def send(email: EmailRequest, mailer: MailerDep, background: BackgroundTasks) -> Accepted:
    """Accept an email and deliver it after responding; delivery failures are logged and
    traced, not returned."""
    background.add_task(mailer.deliver, email)
    return Accepted(message="Email accepted for delivery", recipients=len(email.recipients))


router.include_router(work)
