"""A real HTTP server on loopback whose answers wait until the test lets them go.

By default every response closes its connection (HTTP/1.0), so a client that sends another
request must open a new connection: the case where a cancelled call can leak a slot of httpx's
connection pool (encode/httpcore#1093). With `keep_alive`, it speaks HTTP/1.1 and keeps them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from devstack import poll_until

from .upstream import JsonHandler, serving

HOLD_LIMIT_SECONDS = 30.0  # a held answer goes out by itself after this, so no thread stays


@dataclass
class HeldUpstream:
    port: int
    _gate: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: int = 0
    answered: int = 0
    # The client's port of every connection that sent a request: one per connection.
    connections: set[int] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self, count: int = 1) -> None:
        """Let `count` held requests be answered."""
        self._gate.release(count)

    def wait_for_waiting(self, count: int) -> None:
        poll_until(lambda: self.waiting >= count, f"{count} requests to be held")

    def _hold(self) -> None:
        with self._lock:
            self.waiting += 1
        self._gate.acquire(timeout=HOLD_LIMIT_SECONDS)
        with self._lock:
            self.waiting -= 1
            self.answered += 1


@contextmanager
def held_upstream(*, keep_alive: bool = False) -> Iterator[HeldUpstream]:
    """A GET of /held... is held until `release()`; every GET is answered 200 with a small
    JSON body."""
    state = HeldUpstream(port=0)

    class Handler(JsonHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            with state._lock:
                state.connections.add(self.client_address[1])
            if self.path.startswith("/held"):
                state._hold()
            self.answer(200, {"held": True})

    with serving(Handler) as port:
        state.port = port
        try:
            yield state
        finally:
            state.release(10_000)
