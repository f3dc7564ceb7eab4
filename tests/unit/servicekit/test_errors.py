"""Errors as clients see them: one JSON body, the same for every failure, as documented."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel

from servicekit import install_error_handlers
from servicekit.errors import MAX_ECHOED, ErrorBody

pytestmark = pytest.mark.anyio
# JSON must be UTF-8: FastAPI answers a 400 when the body cannot even be decoded.
LATIN_1_JSON = '{"name": "café"}'.encode("latin-1")


class Item(BaseModel):
    name: str


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.put("/items")
    async def replace(item: Item) -> Item:
        return item

    @app.get("/items/{name}", responses={404: {"description": "No such item"}})
    async def read(name: str) -> Item:
        raise HTTPException(404, f"no item {name}")

    @app.delete("/items/{name}")
    async def delete(name: str) -> None:
        return None

    # The services add their routes through routers, which the app sees as one route each.
    router = APIRouter(prefix="/shelf")

    @router.get("/books")
    async def books() -> list[Item]:
        return []

    @router.post("/books")
    async def add_book(item: Item) -> Item:
        return item

    app.include_router(router)
    return app


async def request(app: FastAPI, method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.example") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/items/pen", {}, 404),
        ("POST", "/items", {"json": {}}, 422),
        (
            "POST",
            "/items",
            {"content": LATIN_1_JSON, "headers": {"Content-Type": "application/json"}},
            400,
        ),
        ("PATCH", "/items", {}, 405),
        ("GET", "/nowhere", {}, 404),
    ],
    ids=["http-exception", "invalid-body", "unreadable-body", "wrong-method", "unknown-path"],
)
async def test_every_error_has_the_documented_body(
    method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    response = await request(build_app(), method, path, **kwargs)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    body = ErrorBody.model_validate(response.json())
    assert (body.status, body.path) == (status, path)
    assert set(response.json()) <= set(ErrorBody.model_fields)


async def test_absent_field_errors_and_trace_id_are_left_out() -> None:
    """Clients of the original services see its five fields, and more only when there is more."""
    body = (await request(build_app(), "GET", "/items/pen")).json()
    assert set(body) == {"timestamp", "status", "error", "message", "path"}


async def test_invalid_fields_are_listed() -> None:
    body = (await request(build_app(), "POST", "/items", json={"name": 3})).json()
    assert body["errors"] == [{"field": "name", "message": "Input should be a valid string"}]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/items", "POST, PUT"), ("/items/pen", "DELETE, GET"), ("/shelf/books", "GET, POST")],
)
async def test_a_wrong_method_is_told_every_method_of_the_path(path: str, allowed: str) -> None:
    """RFC 9110: a 405's Allow lists the methods the resource supports, whichever route has them.

    Starlette's own 405 names only the first route's: `Allow: POST` for /items, whose PUT
    is another route."""
    response = await request(build_app(), "OPTIONS", path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed


async def test_a_long_path_is_echoed_cut_short() -> None:
    """A 10 KB path came back twice, whole, in the 404 body: in `path` and in the message."""
    name = "n" * 10_000
    response = await request(build_app(), "GET", f"/items/{name}")
    assert response.status_code == 404
    body = response.json()
    assert body["path"] == f"/items/{name}"[:MAX_ECHOED] + "…"
    assert body["message"] == f"no item {name}"[:MAX_ECHOED] + "…"
    assert len(response.content) < 3 * MAX_ECHOED
