"""An httpx transport for the calls to one dependency: bounded, never queued, never wedged.

httpx's own pool (httpcore's) fails this service twice. A call cancelled while it waits for a
connection can leave behind a connection no call owns, which the pool never reclaims
(encode/httpcore#1093, open on httpcore 1.0.9; a pool timeout firing as a connection is
handed over is such a cancellation): once they fill the pool, every call waits until it times
out, and only a restart helps. And every call and every response walk all its connections,
polling each idle socket, so that with a few dozen kept alive the bookkeeping cost more CPU
than opening a connection per call.

Here each connection is an httpx transport of its own (a pool of one), lent to one call at a
time:

- at most `max_connections` calls at once; the next is refused at once with `Saturated`, so
  nothing ever waits for a connection;
- a call borrows the connection used last (the one most likely still open) or a new one, and
  gives it back when its response is closed: a constant cost per call;
- a connection whose call failed or was cancelled is closed, never lent again: whatever state
  it was left in, the place it held is free with the call;
- connections idle longer than KEEPALIVE_EXPIRY_SECONDS are closed.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Callable
from functools import cache

import httpx

# Below uvicorn's default keep-alive timeout (5 s): a connection the server is about to close
# is dropped here first rather than reused and broken.
KEEPALIVE_EXPIRY_SECONDS = 4.0

ConnectionFactory = Callable[[], httpx.AsyncBaseTransport]


class Saturated(httpx.TransportError):
    """Every connection is in use: the call was refused without being made."""


@cache
def _ssl_context() -> ssl.SSLContext:
    """One for every connection: each would otherwise load the CA bundle again."""
    return httpx.create_ssl_context()


def one_connection() -> httpx.AsyncBaseTransport:
    """An httpx transport that keeps a single connection (alive, while the server lets it)."""
    limits = httpx.Limits(
        max_connections=1, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS
    )
    return httpx.AsyncHTTPTransport(verify=_ssl_context(), limits=limits)


class GuardedTransport(httpx.AsyncBaseTransport):
    """`connect()` makes a connection (an httpx transport; traced, say), lent one call at a
    time."""

    def __init__(self, max_connections: int, connect: ConnectionFactory = one_connection) -> None:
        self.max_connections = max_connections
        self.opened = 0
        self._connect = connect
        self._idle: list[tuple[float, httpx.AsyncBaseTransport]] = []  # oldest first
        self._calls = 0
        self._closed = False
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def calls_in_flight(self) -> int:
        return self._calls

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._calls >= self.max_connections:
            raise Saturated(f"all {self.max_connections} connections are in use", request=request)
        self._calls += 1
        connection = self._lend()
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            self._calls -= 1
            self._close(connection)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReturningStream(response.stream, lambda ok: self._returned(connection, ok)),
            extensions=response.extensions,
        )

    def _lend(self) -> httpx.AsyncBaseTransport:
        expired = time.monotonic() - KEEPALIVE_EXPIRY_SECONDS
        while self._idle and self._idle[0][0] < expired:
            self._close(self._idle.pop(0)[1])
        if self._idle:
            return self._idle.pop()[1]
        self.opened += 1
        return self._connect()

    def _returned(self, connection: httpx.AsyncBaseTransport, reusable: bool) -> None:
        self._calls -= 1
        if reusable and not self._closed:
            self._idle.append((time.monotonic(), connection))
        else:
            self._close(connection)

    def _close(self, connection: httpx.AsyncBaseTransport) -> None:
        """Closed in a task of its own: the caller may be failing or cancelled."""
        task = asyncio.get_running_loop().create_task(connection.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        self._closed = True
        while self._idle:
            self._close(self._idle.pop()[1])
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


class _ReturningStream(httpx.AsyncByteStream):
    """The response body; closing it returns the connection, reusable unless reading failed
    or was interrupted."""

    def __init__(self, stream: httpx.AsyncByteStream, returned: Callable[[bool], None]) -> None:
        self._stream = stream
        self._returned: Callable[[bool], None] | None = returned
        self._failed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except BaseException:
            self._failed = True
            raise

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        except BaseException:
            self._failed = True
            raise
        finally:
            returned, self._returned = self._returned, None
            if returned is not None:
                returned(not self._failed)
