"""Refuse requests beyond a service's capacity at once, rather than queue them.

A request waiting in a queue (uvicorn's, the thread pool's, a connection pool's) still costs
the client its timeout, and under a burst every request waits behind the others: all of them
time out. Shedding the excess with an immediate 503 and `Retry-After` keeps the requests that
are admitted fast, and tells clients and load balancers to come back.

A request counts from the moment it is admitted until its response is complete. Work it left
for after the response (background tasks) is bounded where it queues: the mail backlog, the
connection pools.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

RETRY_AFTER_SECONDS = "1"
OVERLOADED = "The service is busy; try again shortly"


class ConcurrencyLimit:
    """A pure ASGI middleware: at most `limit` HTTP requests at once, except `exempt_paths`
    (health checks, which must answer whatever the load)."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt_paths = frozenset(exempt_paths)
        # One event loop runs every request: a plain counter needs no lock.
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            response = error_response(
                Request(scope),
                HTTPStatus.SERVICE_UNAVAILABLE,
                OVERLOADED,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
            await response(scope, receive, send)
            return
        self.in_flight += 1
        counted = True

        def done() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.in_flight -= 1

        async def send_and_count(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                done()

        try:
            await self.app(scope, receive, send_and_count)
        finally:
            done()
