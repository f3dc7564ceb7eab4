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
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracing import current_trace_id

log = logging.getLogger(__name__)


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "path": request.url.path,
    }
    if errors:
        body["errors"] = errors
    trace_id = current_trace_id()
    if trace_id:
        body["trace_id"] = trace_id
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(request, exc.status_code, str(exc.detail), headers=exc.headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_field_error(error) for error in exc.errors()]
    message = "Invalid request: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return error_response(request, HTTPStatus.UNPROCESSABLE_ENTITY, message, errors=errors)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Logged once, with the trace id, by the tracing middleware or else by the server.
    return error_response(request, HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        return {"field": "body", "message": "the body is not valid JSON"}
    if location and location[0] in ("body", "path", "query", "header") and len(location) > 1:
        location = location[1:]
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return {"field": ".".join(location) or "body", "message": message}
