"""The notification routes, as in the original service."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from servicekit import error_response
from servicekit.openapi import unavailable

from .deps import HostDep, MailerDep, SettingsDep, inject
from .mailer import BacklogFull
from .schemas import Accepted, EmailRequest, XRayInfo

PREFIX = "/notification"
HEALTH_PATH = f"{PREFIX}/health-status"
READINESS_PATH = f"{PREFIX}/readiness"
# Probes: never traced, never refused for load.
PROBE_PATHS = frozenset({HEALTH_PATH, READINESS_PATH})
# A full backlog drains at MAIL_CONCURRENCY emails per SMTP round trip: seconds, not one.
BACKLOG_RETRY_AFTER_SECONDS = "5"

router = APIRouter(prefix=PREFIX, tags=["notification"])
# The routes that do the work, and suffer injected faults; the health check never does.
work = APIRouter(dependencies=[Depends(inject)])


class Readiness(BaseModel):
    status: Literal["UP"]
    components: dict[str, Literal["UP"]]


@router.get("/health-status", response_class=PlainTextResponse, tags=["health"])
async def health_status(settings: SettingsDep) -> str:
    """Liveness: the process serves requests."""
    return f"Notification Service is UP and Running - {settings.app_version}"


@router.get(
    "/readiness",
    response_model=Readiness,
    tags=["health"],
    responses={503: unavailable("Not ready: the mail backlog is full")},
)
async def readiness(request: Request, mailer: MailerDep) -> JSONResponse:
    """Readiness: an email sent now would be accepted (the backlog has room)."""
    if mailer.full:
        return error_response(
            request,
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "Not ready: mail backlog is full",
            errors=[{"field": "mail", "message": "backlog is full"}],
            headers={"Retry-After": BACKLOG_RETRY_AFTER_SECONDS},
        )
    return JSONResponse(Readiness(status="UP", components={"mail": "UP"}).model_dump())


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


@work.post(
    "/send",
    status_code=status.HTTP_202_ACCEPTED,
    responses={503: unavailable("The mail backlog is full: the email was not accepted")},
)
async def send(email: EmailRequest, mailer: MailerDep, background: BackgroundTasks) -> Accepted:
    """Accept an email and deliver it after responding; delivery failures are logged and
    traced, not returned. While the backlog is full, nothing is accepted (503)."""
    try:
        mailer.accept()
    except BacklogFull:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "Too many emails are waiting to be delivered; try again shortly",
            headers={"Retry-After": BACKLOG_RETRY_AFTER_SECONDS},
        ) from None
    background.add_task(mailer.deliver, email)
    return Accepted(message="Email accepted for delivery", recipients=len(email.recipients))


router.include_router(work)
