"""Failures of what the service depends on, as JSON errors with the right status."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from servicekit import error_response

from .notification_client import NotificationUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"
# Connection refused or lost, server gone, pool exhausted: the database, not the request.
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def install_dependency_errors(app: FastAPI) -> None:
    for error in DATABASE_DOWN:
        app.add_exception_handler(error, _database_unavailable)
    app.add_exception_handler(NotificationUnavailable, _notification_unavailable)  # type: ignore[arg-type]


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning(
        "database unavailable for %s %s: %s", request.method, request.url.path, _first_line(exc)
    )
    return error_response(
        request,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "The user database is unavailable; try again shortly",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _notification_unavailable(request: Request, exc: NotificationUnavailable) -> JSONResponse:
    log.warning("notification service unavailable for %s: %s", request.url.path, exc)
    status = HTTPStatus.GATEWAY_TIMEOUT if exc.timed_out else HTTPStatus.BAD_GATEWAY
    return error_response(request, status, f"Notification service unavailable: {exc}")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
