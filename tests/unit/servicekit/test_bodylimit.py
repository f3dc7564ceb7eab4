"""Request bodies: refused past the limit before the application reads them, and bounded in
the time they may take to arrive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.types import Message

from servicekit import install_error_handlers
from servicekit.bodylimit import BodyLimit
from tests.support.asgi import http_scope

pytestmark = pytest.mark.anyio
LIMIT = 1024
TIMEOUT = 0.2


def build() -> tuple[BodyLimit, list[bytes]]:
    app = FastAPI()
    install_error_handlers(app)
    seen: list[bytes] = []

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        seen.append(await request.body())
        return {"bytes": len(seen[-1])}

    @app.get("/items")
    async def items() -> dict[str, int]:
        return {"count": 1}

    return BodyLimit(app, max_bytes=LIMIT, timeout=TIMEOUT), seen


async def post(app: BodyLimit, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.post("/echo", **kwargs)


def assert_refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.headers["Connection"] == "close"  # the rest of the body is never read
    body = response.json()
    assert (body["status"], body["message"], body["path"]) == (status, message, "/echo")


async def test_a_body_within_the_limit_reaches_the_application_whole() -> None:
    app, seen = build()
    response = await post(app, content=b"x" * LIMIT)
    assert response.json() == {"bytes": LIMIT}
    assert seen == [b"x" * LIMIT]


async def test_a_declared_length_past_the_limit_is_refused_unread() -> None:
    app, seen = build()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 1024

    response = await post(app, content=body(), headers={"Content-Length": str(64 * 1024)})
    assert_refused(response, 413, f"The request body is larger than {LIMIT} bytes")
    assert seen == []


async def test_a_chunked_body_is_refused_once_it_passes_the_limit() -> None:
    app, seen = build()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 512

    response = await post(app, content=body())  # no Content-Length: chunked
    assert_refused(response, 413, f"The request body is larger than {LIMIT} bytes")
    assert seen == []


async def test_a_body_shorter_than_announced_times_out() -> None:
    """The client announced 100 bytes, sent 10 and went quiet; the connection stays open."""
    app, seen = build()
    sent: list[Message] = []
    messages: list[Message] = [{"type": "http.request", "body": b"0123456789", "more_body": True}]

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = http_scope(
        "POST", "/echo", [(b"content-length", b"100"), (b"content-type", b"application/json")]
    )
    with anyio.fail_after(TIMEOUT * 20):
        await app(scope, receive, send)
    start, body = sent
    assert start["status"] == 408
    assert (b"connection", b"close") in start["headers"]
    assert b"did not arrive within 0.2 seconds" in body["body"]
    assert seen == []


async def test_requests_without_a_body_pass_straight_through() -> None:
    app, _ = build()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        assert (await client.get("/items")).json() == {"count": 1}
