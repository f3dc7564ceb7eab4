"""A real UDP socket that receives segment documents the way the X-Ray daemon does."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any

from devstack.polling import poll_until

PROTOCOL_HEADER = b'{"format":"json","version":1}'
RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024
MAX_DATAGRAM_BYTES = 65535

Document = dict[str, Any]


class SegmentCollector:
    """Binds 127.0.0.1:<free port> and keeps every document it receives, in arrival order.

    One serves the whole test run (the `collector` fixture): tests tell their documents
    apart by trace id, and the tracers made for one set of settings are made once.

    Each datagram must be the daemon protocol: the JSON header line, a newline, then one
    segment or subsegment document. Anything else is kept in `malformed`, so a test can
    assert that nothing the services sent was unreadable.
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        self._sock.bind(("127.0.0.1", 0))
        # A blocked recv is not woken by close(); a short timeout lets the thread notice.
        self._sock.settimeout(0.1)
        self._closing = threading.Event()
        self.port: int = self._sock.getsockname()[1]
        self.datagram_sizes: list[int] = []
        self.documents: list[Document] = []
        self._by_trace: dict[str, list[Document]] = {}
        self.malformed: list[bytes] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._receive, name="segment-collector", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _receive(self) -> None:
        while not self._closing.is_set():
            try:
                data = self._sock.recv(MAX_DATAGRAM_BYTES)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            header, _, body = data.partition(b"\n")
            with self._lock:
                self.datagram_sizes.append(len(data))
                try:
                    if header != PROTOCOL_HEADER:
                        raise ValueError("bad header")
                    document = json.loads(body)
                except ValueError:
                    self.malformed.append(data)
                    continue
                self.documents.append(document)
                self._by_trace.setdefault(str(document.get("trace_id")), []).append(document)

    def snapshot(self) -> list[Document]:
        with self._lock:
            return list(self.documents)

    def for_trace(self, trace_id: str) -> list[Document]:
        with self._lock:
            return list(self._by_trace.get(trace_id, ()))

    def wait_for(
        self, predicate: Callable[[list[Document]], bool], what: str, timeout: float = 10.0
    ) -> list[Document]:
        """Wait until `predicate(all documents)` holds and return the documents."""

        def probe() -> list[Document] | None:
            docs = self.snapshot()
            return docs if predicate(docs) else None

        return poll_until(probe, what, timeout=timeout)

    def wait_for_trace(self, trace_id: str, count: int, timeout: float = 10.0) -> list[Document]:
        """Wait until at least `count` documents of one trace arrived and return them all."""

        def probe() -> list[Document] | None:
            docs = self.for_trace(trace_id)
            return docs if len(docs) >= count else None

        return poll_until(probe, f"{count} documents of trace {trace_id}", timeout=timeout)

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=2)
        self._sock.close()
