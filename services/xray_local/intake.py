"""Segment intake: the daemon's UDP protocol, and the checks both UDP and the API apply.

A datagram is `{"format":"json","version":1}`, a newline, then one segment or independent
subsegment document. Each datagram is handled on its own: a bad one is counted under a
reason, logged (at most once per reason every LOG_EVERY seconds, so a flood of garbage
cannot flood the log), and dropped; nothing a sender does can stop the intake.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .documents import InvalidDocument, made_document, parse_document
from .store import Store
from .trace import TraceFull
from .upstream import Upstream

if TYPE_CHECKING:
    from .otlp.intake import OtlpIntake

log = logging.getLogger(__name__)

# After the header, AWS's OpenTelemetry distributions send OTLP instead of a document:
# T1S sampled spans, T1U unsampled spans, M1 metrics (otlp/intake.py).
OTLP_PREFIXES = (b"T1S", b"T1U", b"M1")
PROTOCOL_HEADERS = (b'{"format":"json","version":1}', b'{"format": "json", "version": 1}')
# X-Ray's limit on one segment document.
DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024
# More than any UDP datagram can carry: none is ever cut short, each is relayed whole, and
# an oversized document is judged by the size it really has.
MAX_DATAGRAM_BYTES = 65_536
# What the kernel may hold while the event loop is busy answering a query (Linux grants up
# to twice net.core.rmem_max).
RECEIVE_BUFFER_BYTES = 16 * 1024 * 1024
# Datagrams read per wake-up before the loop gets a turn to serve HTTP.
BATCH = 256
LOG_EVERY = 10.0


@dataclass
class IntakeCounters:
    datagrams: int = 0
    documents: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class Ingestor:
    """Validates documents and stores them, counting what it refuses and why."""

    def __init__(
        self,
        store: Store,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_document_bytes = max_document_bytes
        self.counters = IntakeCounters()
        self._clock = clock
        self._last_logged: dict[str, float] = {}

    def ingest(self, raw: bytes, made: dict[str, Any] | None = None) -> None:
        """Store one document, or raise InvalidDocument (already counted and logged): `raw` is
        its JSON text, `made` the document itself when this process made it (documents.py,
        made_document)."""
        try:
            if len(raw) > self.max_document_bytes:
                raise InvalidDocument(
                    "oversized",
                    f"the document is {len(raw)} bytes; the limit is {self.max_document_bytes}",
                )
            document = parse_document(raw) if made is None else made_document(made, raw)
            try:
                self.store.add(document)
            except TraceFull as exc:
                raise InvalidDocument("trace_full", str(exc), document.id) from None
        except InvalidDocument as exc:
            self.reject(exc.reason, str(exc))
            raise
        self.counters.documents += 1

    def reject(self, reason: str, message: str) -> None:
        self.counters.rejected[reason] += 1
        now = self._clock()
        if now - self._last_logged.get(reason, -LOG_EVERY) >= LOG_EVERY:
            self._last_logged[reason] = now
            log.warning(
                "rejected a document (%s, %d so far): %s",
                reason,
                self.counters.rejected[reason],
                message,
            )


def split_datagram(datagram: bytes) -> bytes:
    """The document a datagram carries, or InvalidDocument if the header is wrong."""
    header, newline, body = datagram.partition(b"\n")
    if not newline:
        raise InvalidDocument("no_header", 'no {"format":"json","version":1} header line')
    if header not in PROTOCOL_HEADERS:
        try:
            parsed = json.loads(header)
        except (ValueError, RecursionError):
            parsed = None
        if (
            not isinstance(parsed, dict)
            or parsed.get("format") != "json"
            or parsed.get("version") != 1
        ):
            shown = header[:80].decode(errors="replace")
            raise InvalidDocument(
                "bad_header", f'header {shown!r} is not {{"format":"json","version":1}}'
            )
    return body


class UdpIntake:
    """Reads the UDP socket from the event loop, draining it in batches."""

    def __init__(
        self,
        sock: socket.socket,
        ingestor: Ingestor,
        upstream: Upstream | None,
        otlp: OtlpIntake | None = None,
    ) -> None:
        self._sock = sock
        self._ingestor = ingestor
        self._upstream = upstream
        self._otlp = otlp
        self._loop: asyncio.AbstractEventLoop | None = None

    @staticmethod
    def bind(host: str, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        sock.bind((host, port))
        sock.setblocking(False)
        return sock

    @property
    def receive_buffer_bytes(self) -> int:
        return int(self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        loop.add_reader(self._sock.fileno(), self._drain)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
        self._sock.close()

    def _drain(self) -> None:
        sock = self._sock
        for _ in range(BATCH):
            try:
                datagram = sock.recv(MAX_DATAGRAM_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("UDP receive failed: %s", exc)
                return
            self.handle(datagram)

    def handle(self, datagram: bytes) -> None:
        ingestor = self._ingestor
        ingestor.counters.datagrams += 1
        if self._upstream is not None:
            self._upstream.relay(datagram)
        try:
            body = split_datagram(datagram)
        except InvalidDocument as exc:
            ingestor.reject(exc.reason, str(exc))
            return
        try:
            if self._otlp is not None and body.startswith(OTLP_PREFIXES):
                self._otlp.accept_datagram(body)
            else:
                ingestor.ingest(body)
        except InvalidDocument:
            pass  # counted and logged by the ingestor
        except Exception:  # a bug must cost one datagram, not the intake
            log.exception("could not take a datagram in")
            ingestor.counters.rejected["internal_error"] += 1
