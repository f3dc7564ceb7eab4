"""An httpx transport for the calls to one dependency: bounded, never queued, never wedged.

httpx's pool queues a call when every connection is busy, and a call cancelled while it is
queued can leave behind a connection that no call owns and the pool never reclaims
(encode/httpcore#1093, open on httpcore 1.0.9; a pool timeout firing as a connection is
handed over is such a cancellation). Once they fill the pool, every call waits for a
connection until it times out, and only a restart helps. This transport:

- admits at most `max_connections` calls at once and refuses the next one at once with
  `Saturated`, so the pool never has a queue and no call is cancelled while waiting in it;
- counts a call until its response is closed, which is when the pool has the connection back;
- treats a pool timeout, which that bound makes impossible for a sound pool, as slots leaked
  anyway: it starts a new pool, sends the call again there (it never left), and closes the old
  pool once its last call is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)

# A pool that is never asked for more connections than it has hands one over at once; waiting
# for one at all means it has lost some.
POOL_TIMEOUT_SECONDS = 1.0
# Below uvicorn's default keep-alive timeout (5 s): a connection the server is about to close
# is dropped here first rather than reused and broken.
KEEPALIVE_EXPIRY_SECONDS = 4.0

TransportFactory = Callable[[httpx.Limits], httpx.AsyncBaseTransport]


class Saturated(httpx.TransportError):
    """Every connection is in use: the call was refused without being made."""


def plain_pool(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(limits=limits)


@dataclass(eq=False)
class _Pool:
    transport: httpx.AsyncBaseTransport
    calls: int = 0
    retired: bool = False


class GuardedTransport(httpx.AsyncBaseTransport):
    """`build(limits)` makes the pool (an httpx transport); it is called again to replace it."""

    def __init__(self, max_connections: int, build: TransportFactory = plain_pool) -> None:
        self.max_connections = max_connections
        self.renewals = 0
        self._limits = httpx.Limits(
            max_connections=max_connections,
            # As many kept alive as may be open: none is closed only to open another.
            max_keepalive_connections=max_connections,
            keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        )
        self._build = build
        self._pool = _Pool(build(self._limits))
        self._calls = 0
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def calls_in_flight(self) -> int:
        return self._calls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._calls >= self.max_connections:
            raise Saturated(f"all {self.max_connections} connections are in use", request=request)
        timeouts = request.extensions.get("timeout", {})
        request.extensions["timeout"] = {**timeouts, "pool": POOL_TIMEOUT_SECONDS}
        self._calls += 1
        try:
            pool, response = await self._send(request)
        except BaseException:
            self._calls -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, lambda: self._call_done(pool)),
            extensions=response.extensions,
        )

    async def _send(self, request: httpx.Request) -> tuple[_Pool, httpx.Response]:
        pool = self._pool
        try:
            return pool, await self._on(pool, request)
        except httpx.PoolTimeout:
            self._renew(pool)
        pool = self._pool
        return pool, await self._on(pool, request)

    async def _on(self, pool: _Pool, request: httpx.Request) -> httpx.Response:
        pool.calls += 1
        try:
            return await pool.transport.handle_async_request(request)
        except BaseException:
            self._leave(pool)
            raise

    def _call_done(self, pool: _Pool) -> None:
        self._calls -= 1
        self._leave(pool)

    def _leave(self, pool: _Pool) -> None:
        pool.calls -= 1
        self._close_if_done(pool)

    def _close_if_done(self, pool: _Pool) -> None:
        if pool.retired and pool.calls == 0:
            task = asyncio.get_running_loop().create_task(pool.transport.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def _renew(self, pool: _Pool) -> None:
        if pool is not self._pool:
            return  # a call that failed at the same time has replaced it already
        log.warning(
            "connection pool ran out of connections with %d of %d calls in flight "
            "(slots leaked by cancelled calls): replacing it",
            self._calls - 1,
            self.max_connections,
        )
        self.renewals += 1
        self._pool = _Pool(self._build(self._limits))
        pool.retired = True
        self._close_if_done(pool)

    async def aclose(self) -> None:
        await self._pool.transport.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


class _ReleasingStream(httpx.AsyncByteStream):
    """The response body; closing it gives the call's place back, once."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
