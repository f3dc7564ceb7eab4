"""Cheap local receivers for the telemetry under test: they count what arrives, nothing more.

`UdpSink` stands in for the X-Ray daemon: it drains datagrams and counts those in the
daemon's protocol. `OtlpSink` stands in for an OpenTelemetry collector: it answers
POST /v1/traces with 200 and counts the spans in each export. Each runs in a thread of the
bench process, which is otherwise idle while wrk runs, so it steals little CPU from the
services measured.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PROTOCOL_HEADER = b'{"format":"json","version":1}\n'
RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024
MAX_DATAGRAM_BYTES = 65535
TRACES_PATH = "/v1/traces"
SERVICE_NAME = "service.name"
# A count that has not moved for this long is taken as final.
SETTLE_SECONDS = 0.3


class UdpSink:
    """Binds 127.0.0.1:<free port> and counts the segment documents it receives."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        self._sock.bind(("127.0.0.1", 0))
        # A blocked recv is not woken by close(); a short timeout lets the thread notice.
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self.documents = 0
        self.malformed = 0
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="udp-sink", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _drain(self) -> None:
        buffer = bytearray(MAX_DATAGRAM_BYTES)
        header = len(PROTOCOL_HEADER)
        while not self._closing.is_set():
            try:
                size = self._sock.recv_into(buffer)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            if size > header and buffer[:header] == PROTOCOL_HEADER:
                self.documents += 1
            else:
                self.malformed += 1

    def settled_documents(self) -> int:
        return settled(lambda: self.documents)

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=2)
        self._sock.close()


class OtlpSink:
    """A minimal OTLP/HTTP (protobuf) trace receiver on 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self.spans_by_service: Counter[str] = Counter()
        self.exports = 0
        self.rejected = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="otlp-sink", daemon=True
        )
        self._thread.start()

    @property
    def traces_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{TRACES_PATH}"

    @property
    def spans(self) -> int:
        with self._lock:
            return sum(self.spans_by_service.values())

    def settled_spans(self) -> int:
        return settled(lambda: self.spans)

    def record(self, body: bytes) -> bool:
        try:
            request = ExportTraceServiceRequest.FromString(body)
        except Exception:  # protobuf's DecodeError, and anything a bad body may raise
            with self._lock:
                self.rejected += 1
            return False
        with self._lock:
            self.exports += 1
            for resource_spans in request.resource_spans:
                service = _service_name(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    self.spans_by_service[service] += len(scope_spans.spans)
        return True

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)


def _service_name(attributes: Iterable[Any]) -> str:
    for attribute in attributes:
        if attribute.key == SERVICE_NAME:
            return str(attribute.value.string_value)
    return "unknown"


def _handler_for(sink: OtlpSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as the exporter's requests session expects.
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path != TRACES_PATH:
                self._answer(404, b"")
            elif sink.record(body):
                self._answer(200, ExportTraceServiceResponse().SerializeToString())
            else:
                self._answer(400, b"")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: one line per export would flood the bench's output."""

    return Handler


def settled(
    read: Callable[[], int], quiet_seconds: float = SETTLE_SECONDS, limit: float = 10.0
) -> int:
    """What `read()` returns once it has stopped changing (or after `limit` seconds)."""
    last, last_change = read(), time.monotonic()
    deadline = last_change + limit
    while time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
        if value != last:
            last, last_change = value, time.monotonic()
        elif time.monotonic() - last_change >= quiet_seconds:
            break
    return last
