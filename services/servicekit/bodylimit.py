"""Request bodies: bounded in size and in the time they take to arrive.

Without a bound, one 50 MB POST is read whole into memory and parsed (and a 50-million
character password scanned) while health checks wait. Without a deadline, a client that
announces more bytes than it sends holds its connection, and a place in the service, for
ever. So, before the application sees a request:

- a Content-Length above the limit is refused with 413 at once, the body unread (a client
  that sent `Expect: 100-continue` is never told to send it);
- a body without Content-Length (chunked) is read up to the limit and refused with 413 past
  it;
- the body must arrive whole within the deadline, else 408.

Both refusals close the connection (`Connection: close`): what is left of the body is never
read. The application gets the body exactly as it came, from memory: it reads every body whole
anyway, and these are small.
"""

from __future__ import annotations

from http import HTTPStatus

import anyio
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

TOO_LARGE = "The request body is larger than {limit} bytes"
TOO_SLOW = "The request body did not arrive within {seconds:g} seconds"


class BodyLimit:
    """A pure ASGI middleware: at most `max_bytes` of request body, within `timeout` seconds."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS") and not length:
            await self.app(scope, receive, send)  # no body: nothing to wait for
            return
        try:
            with anyio.fail_after(self.timeout):
                body = await self._read(receive)
        except TimeoutError:
            await self._refuse(scope, send, HTTPStatus.REQUEST_TIMEOUT)
            return
        if body is None:
            await self._refuse(scope, send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None past the limit. A client that disconnects mid-body leaves
        what it sent: the application then sees the disconnect on its next receive."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _refuse(self, scope: Scope, send: Send, status: HTTPStatus) -> None:
        if status is HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
            message = TOO_LARGE.format(limit=self.max_bytes)
        else:
            message = TOO_SLOW.format(seconds=self.timeout)
        response = error_response(Request(scope), status, message, headers={"Connection": "close"})
        await response(scope, _no_body, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message, then whatever the server says next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
