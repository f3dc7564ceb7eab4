"""Health checks, for Kubernetes' probes.

Liveness (`/health-status`, the original's) only says the process serves requests: async,
free of the database and the thread pool, it answers at once whatever the load, so a busy or
degraded service is never restarted for it. Readiness (`/readiness`) says whether the service
can do its work now: it calls the notification service through the very client the call
chain uses (its pool included) and asks the database for `SELECT 1`, each within a second,
and answers 503 naming what failed. Kubernetes then stops routing here until it passes.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Literal

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from servicekit import error_response
from servicekit.openapi import unavailable

from ..db import Database, DatabaseBusy
from ..notification_client import NotificationClient, NotificationUnavailable
from .deps import DatabaseDep, NotifierDep

# Within the probes' 2 s timeout, both checks running at once.
CHECK_TIMEOUT_SECONDS = 1.0

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    status: Literal["UP"]
    components: dict[str, Literal["UP"]]


@router.get("/health-status", response_class=PlainTextResponse)
async def health_status() -> str:
    """Liveness: the process serves requests."""
    return "User Management Service UP and RUNNING - V1"


@router.get(
    "/readiness",
    response_model=Readiness,
    responses={503: unavailable("Not ready: `errors` names each dependency that failed")},
)
async def readiness(request: Request, database: DatabaseDep, notifier: NotifierDep) -> JSONResponse:
    """Readiness: the database and the notification service answer, through this process's own
    pools."""
    problems = await asyncio.gather(_database_problem(database), _notification_problem(notifier))
    failed = [
        {"field": name, "message": problem}
        for name, problem in zip(("database", "notification"), problems, strict=True)
        if problem is not None
    ]
    if failed:
        return error_response(
            request,
            HTTPStatus.SERVICE_UNAVAILABLE,
            "Not ready: " + ", ".join(f"{f['field']} {f['message']}" for f in failed),
            errors=failed,
            headers={"Retry-After": "5"},
        )
    body = Readiness(status="UP", components={"database": "UP", "notification": "UP"})
    return JSONResponse(body.model_dump())


async def _database_problem(database: Database) -> str | None:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await database.run(lambda session: session.execute(text("SELECT 1")))
    except DatabaseBusy:
        return "is busy"
    except TimeoutError:
        return "did not answer in time"
    except sa_exc.DBAPIError:
        return "cannot be reached"
    return None


async def _notification_problem(notifier: NotificationClient) -> str | None:
    try:
        await notifier.health_status(timeout=CHECK_TIMEOUT_SECONDS)
    except NotificationUnavailable as exc:
        return exc.reason.removeprefix("it ")
    return None
