"""Every failure of user management's own, as a JSON error with its status, in one place.

Routes and the store raise; nothing in between catches: the user that is not there (404),
the name or email that is taken (409), the notification service failing (502), too slow
(504) or every connection to it busy (503), the database down (503, with Retry-After).
servicekit.errors answers the rest (invalid requests, unknown paths, wrong methods, anything
unexpected).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from servicekit import error_response
from servicekit.openapi import unavailable

from .db import DatabaseBusy, DatabaseTimeout
from .notification_client import NotificationUnavailable
from .store import UserExists, UserNotFound

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"
# Every slot (database, connection to notification) was taken: one is free within a call.
BUSY_RETRY_AFTER_SECONDS = "1"
# Connection refused or lost, server gone or too slow, pool exhausted: the database, not the
# request.
DATABASE_DOWN_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    DatabaseTimeout,
)

# The same statuses as the routes document them in the OpenAPI document.
Responses = dict[int | str, dict[str, Any]]
DATABASE_DOWN: Responses = {503: unavailable("The user database is unavailable")}
NOT_FOUND: Responses = {404: {"description": "No user with that user name"}, **DATABASE_DOWN}
CONFLICT: Responses = {409: {"description": "The user name or email is taken"}, **DATABASE_DOWN}
UPSTREAM_ERRORS: Responses = {
    502: {"description": "The notification service failed or could not be reached"},
    503: unavailable("Too many calls to the notification service at once: refused, not queued"),
    504: {"description": "The notification service did not answer in time"},
}


def install_errors(app: FastAPI) -> None:
    app.add_exception_handler(UserNotFound, _user_not_found)  # type: ignore[arg-type]
    app.add_exception_handler(UserExists, _user_exists)  # type: ignore[arg-type]
    for error in DATABASE_DOWN_ERRORS:
        app.add_exception_handler(error, _database_unavailable)
    app.add_exception_handler(DatabaseBusy, _database_busy)
    app.add_exception_handler(NotificationUnavailable, _notification_unavailable)  # type: ignore[arg-type]


async def _user_not_found(request: Request, exc: UserNotFound) -> JSONResponse:
    return error_response(request, HTTPStatus.NOT_FOUND, str(exc))


async def _user_exists(request: Request, exc: UserExists) -> JSONResponse:
    return error_response(request, HTTPStatus.CONFLICT, str(exc))


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


async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database busy for %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        request,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "The user database is busy; try again shortly",
        headers={"Retry-After": BUSY_RETRY_AFTER_SECONDS},
    )


async def _notification_unavailable(request: Request, exc: NotificationUnavailable) -> JSONResponse:
    log.warning("notification service unavailable for %s: %s", request.url.path, exc)
    if exc.busy:
        return error_response(
            request,
            HTTPStatus.SERVICE_UNAVAILABLE,
            "Too many calls to the notification service at once; try again shortly",
            headers={"Retry-After": BUSY_RETRY_AFTER_SECONDS},
        )
    # Its address and the error's details are for the log above, not for public clients.
    status = HTTPStatus.GATEWAY_TIMEOUT if exc.timed_out else HTTPStatus.BAD_GATEWAY
    return error_response(request, status, f"Notification service unavailable: {exc.reason}")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
