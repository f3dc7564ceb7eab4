"""JSON error bodies for every failure a client can see, in one shape.

The shape is Spring Boot's error body (timestamp, status, error, message, path), which the
original services returned, plus `errors` (one entry per invalid field) and `trace_id`. No
stack trace and no submitted value (a password!) ever goes back to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from tracing import current_trace_id

from .openapi import document_errors

log = logging.getLogger(__name__)

# What a 405's Allow header may list (RFC 9110, section 9).
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# What the body echoes of the request (its path, a message quoting it) is cut at this length:
# a client sending 10 KB of path need not get it back, twice.
MAX_ECHOED = 500


class FieldError(BaseModel):
    field: str = Field(description="The field at fault, dotted for nested ones; `body` for all")
    message: str


class ErrorBody(BaseModel):
    """The body of every error response (4xx and 5xx)."""

    timestamp: str = Field(description="When it happened: ISO 8601, UTC, milliseconds")
    status: int = Field(description="The response's status code")
    error: str = Field(description="The status code's reason phrase")
    message: str
    path: str = Field(description="The request's path")
    errors: list[FieldError] = Field(
        default_factory=list, description="One entry per invalid field; absent when none is"
    )
    trace_id: str = Field(
        "", description="The request's X-Ray trace id; absent when it is not traced"
    )


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        timestamp=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        status=status,
        error=HTTPStatus(status).phrase,
        message=_cut(message),
        path=_cut(request.url.path),
        errors=[FieldError(**error) for error in errors or ()],
        trace_id=current_trace_id() or "",
    )
    return JSONResponse(body.model_dump(exclude_defaults=True), status_code=status, headers=headers)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ECHOED else text[:MAX_ECHOED] + "…"


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with an `ErrorBody`, and say so in the app's OpenAPI document."""
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)
    document_errors(app, ErrorBody)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = exc.headers
    if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return error_response(request, exc.status_code, str(exc.detail), headers=headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_field_error(error) for error in exc.errors()]
    message = "Invalid request: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return error_response(request, HTTPStatus.UNPROCESSABLE_ENTITY, message, errors=errors)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Logged once, with the trace id, by the tracing middleware or else by the server.
    return error_response(request, HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")


def _allowed_methods(request: Request) -> str:
    """Every method the path answers to. Starlette's 405 names those of the first route with
    that path only (`Allow: POST` for /user, which also takes PUT from another route), and a
    router added with `include_router` is one route to the app, with no methods of its own: so
    each method is tried on the app's routes as the router itself would match it."""
    allowed = [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        return {"field": "body", "message": "the body is not valid JSON"}
    if location and location[0] in ("body", "path", "query", "header") and len(location) > 1:
        location = location[1:]
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return {"field": ".".join(location) or "body", "message": message}
