"""The concurrency limit: past it, an immediate 503 with Retry-After, never a queue."""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI
from starlette.types import Message

from servicekit import install_error_handlers
from servicekit.admission import OVERLOADED, ConcurrencyLimit
from tests.support.asgi import http_scope

pytestmark = pytest.mark.anyio
LIMIT = 2
HANG_GUARD_SECONDS = 10  # only stops a test that hangs


class Gate:
    """Requests to /held wait here until the test opens it."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.waiting = 0

    async def wait_for(self, count: int) -> None:
        while self.waiting < count:
            await asyncio.sleep(0)


def build(gate: Gate, after_response: asyncio.Event) -> ConcurrencyLimit:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/held")
    async def held() -> dict[str, str]:
        gate.waiting += 1
        await gate.opened.wait()
        return {"held": "done"}

    @app.get("/health")
    async def health() -> str:
        return "UP"

    @app.get("/later")
    async def later(background: BackgroundTasks) -> dict[str, str]:
        background.add_task(after_response.wait)
        return {"queued": "yes"}

    return ConcurrencyLimit(app, limit=LIMIT, exempt_paths={"/health"})


async def test_past_the_limit_requests_are_refused_at_once_and_health_is_exempt() -> None:
    gate, after = Gate(), asyncio.Event()
    limited = build(gate, after)
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        with anyio.fail_after(HANG_GUARD_SECONDS):
            held = [asyncio.create_task(client.get("/held")) for _ in range(LIMIT)]
            await gate.wait_for(LIMIT)
            refused = await client.get("/held")
            health = await client.get("/health")
            gate.opened.set()
            answered = await asyncio.gather(*held)
            again = await client.get("/held")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    body = refused.json()
    assert (body["status"], body["error"], body["message"], body["path"]) == (
        503,
        "Service Unavailable",
        OVERLOADED,
        "/held",
    )
    assert gate.waiting == LIMIT + 1  # the refused request never reached the route
    assert health.status_code == 200
    assert [r.status_code for r in answered] == [200] * LIMIT
    assert again.status_code == 200
    assert limited.in_flight == 0


async def test_work_after_the_response_does_not_hold_a_place() -> None:
    gate, after = Gate(), asyncio.Event()
    limited = build(gate, after)
    done = anyio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = http_scope("GET", "/later")
    with anyio.fail_after(HANG_GUARD_SECONDS):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(limited, scope, receive, send)
            await done.wait()
            assert limited.in_flight == 0  # answered; the background task still runs
            after.set()
