"""What every operation of the services shares, written into the OpenAPI document FastAPI builds.

FastAPI documents its own error body (`{"detail": [...]}`) for a 422 and no body at all for the
error statuses routes declare; the services answer every error with servicekit.errors' body, so
the document is corrected here, once for all routes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from tracing import HEADER_NAME

Document = dict[str, Any]

SCHEMAS_REF = "#/components/schemas/"
# FastAPI's own 422 body, which the services never send.
FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
UNREADABLE_BODY = {"description": "The body could not be read (for example, it is not UTF-8)"}
INVALID_REQUEST = "Invalid request: the fields at fault are listed in `errors`"
TRACE_HEADER_PARAMETER = "TraceHeader"
TRACE_HEADER: Document = {
    "name": HEADER_NAME,
    "in": "header",
    "required": False,
    "description": (
        "An X-Ray trace to continue: `Root=1-<8 hex>-<24 hex>`, optionally `;Parent=<16 hex>` "
        "and `;Sampled=0|1|?`. A malformed value is ignored: the request starts a new trace. "
        "The response's header names the trace the request joined."
    ),
    "schema": {"type": "string"},
    "example": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
}


def unavailable(description: str) -> Document:
    """A documented 503, which always says when to try again."""
    return {
        "description": description,
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer"},
            }
        },
    }


def edit_openapi(app: FastAPI, edit: Callable[[Document], None]) -> None:
    """Have `edit` change each document FastAPI builds for `app`, before it is served."""
    build = app.openapi
    last_edited: Document | None = None

    def openapi() -> Document:
        nonlocal last_edited
        document = build()  # the same dict each time, until FastAPI rebuilds it
        if document is not last_edited:
            edit(document)
            last_edited = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(app: FastAPI, body: type[BaseModel]) -> None:
    """Every documented 4xx and 5xx response carries `body` as JSON; a request body that cannot
    be read at all is a 400."""

    def edit(document: Document) -> None:
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        definition = body.model_json_schema(ref_template=SCHEMAS_REF + "{model}")
        schemas.update(definition.pop("$defs", {}))
        schemas[body.__name__] = definition
        content = {"application/json": {"schema": {"$ref": SCHEMAS_REF + body.__name__}}}
        for operation in _operations(document):
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", dict(UNREADABLE_BODY))
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = content
                    if status == "422":
                        response["description"] = INVALID_REQUEST
        for name in FASTAPI_ERROR_SCHEMAS:
            schemas.pop(name, None)  # referenced by FastAPI's 422s only, replaced above

    edit_openapi(app, edit)


def document_trace_header(app: FastAPI) -> None:
    """Every operation takes the optional X-Amzn-Trace-Id header (see tracing's middleware)."""

    def edit(document: Document) -> None:
        parameters = document.setdefault("components", {}).setdefault("parameters", {})
        parameters[TRACE_HEADER_PARAMETER] = TRACE_HEADER
        reference = {"$ref": f"#/components/parameters/{TRACE_HEADER_PARAMETER}"}
        for operation in _operations(document):
            operation.setdefault("parameters", []).append(reference)

    edit_openapi(app, edit)


def _operations(document: Document) -> list[Document]:
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    return [
        operation
        for path_item in document.get("paths", {}).values()
        for method, operation in path_item.items()
        if method in methods
    ]
