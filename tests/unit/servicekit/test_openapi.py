"""The OpenAPI document tells clients and client generators the error body they will get."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from servicekit import document_trace_header, install_error_handlers
from servicekit.openapi import edit_openapi
from tracing import HEADER_NAME, parse_trace_header

ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


class Item(BaseModel):
    name: str


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/items", status_code=201, responses={409: {"description": "Taken"}})
    async def create(item: Item) -> Item:
        return item

    @app.get("/items/{name}", responses={404: {"description": "No such item"}})
    async def read(name: str) -> Item:
        return Item(name=name)

    @app.get("/health")
    async def health() -> str:
        return "UP"

    return app


def responses(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(document["paths"][path][method]["responses"])


def test_every_error_status_documents_the_error_body() -> None:
    document = build_app().openapi()
    create = responses(document, "post", "/items")
    assert sorted(create) == ["201", "400", "409", "422"]
    for status in ("400", "409", "422"):
        assert create[status]["content"] == ERROR_BODY
    read = responses(document, "get", "/items/{name}")
    assert read["404"]["content"] == read["422"]["content"] == ERROR_BODY
    assert read["404"]["description"] == "No such item"


def test_fastapis_own_error_body_is_gone() -> None:
    """FastAPI documents `{"detail": [...]}` for a 422, which the services never send."""
    document = build_app().openapi()
    assert "HTTPValidationError" not in json.dumps(document)
    schemas = document["components"]["schemas"]
    assert {"ErrorBody", "FieldError", "Item"} == set(schemas)
    assert set(schemas["ErrorBody"]["required"]) == {
        "timestamp",
        "status",
        "error",
        "message",
        "path",
    }


def test_only_operations_with_a_body_can_have_an_unreadable_one() -> None:
    document = build_app().openapi()
    assert "400" not in responses(document, "get", "/items/{name}")
    assert responses(document, "get", "/health") == {
        "200": document["paths"]["/health"]["get"]["responses"]["200"]
    }


def test_edits_apply_once_and_again_when_fastapi_rebuilds_the_document() -> None:
    app = build_app()
    calls: list[int] = []
    edit_openapi(app, lambda document: calls.append(id(document)))
    first = app.openapi()
    assert app.openapi() is first
    assert len(calls) == 1

    @app.get("/later")
    async def later() -> str:
        return "added after the first build"

    assert "/later" in app.openapi()["paths"]
    assert len(calls) == 2
    assert "ErrorBody" in app.openapi()["components"]["schemas"]


def test_the_trace_header_is_an_optional_parameter_of_every_operation() -> None:
    """Clients see in the docs that they may pass their trace on, and a fuzzer sends it."""
    app = build_app()
    document_trace_header(app)
    document = app.openapi()
    [parameter] = document["components"]["parameters"].values()
    assert (parameter["name"], parameter["in"], parameter["required"]) == (
        HEADER_NAME,
        "header",
        False,
    )
    assert parse_trace_header(parameter["example"]) is not None
    for path, path_item in document["paths"].items():
        for method, operation in path_item.items():
            references = [p.get("$ref", "") for p in operation.get("parameters", [])]
            assert references.count("#/components/parameters/TraceHeader") == 1, (method, path)
    assert app.openapi()["paths"] == document["paths"]  # not added again on the next request
