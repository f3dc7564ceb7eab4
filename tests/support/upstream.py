"""A real HTTP server on loopback that records what it receives and echoes the path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Upstream:
    port: int
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def headers_for(self, path: str) -> dict[str, str]:
        return next(headers for seen, headers in self.requests if seen == path)


@contextmanager
def upstream_server() -> Iterator[Upstream]:
    """GET (or POST) /status/<code> answers that code; any other path answers 200 with the
    path."""
    state = Upstream(port=0)
    lock = threading.Lock()

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            with lock:
                state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            status = 200
            if self.path.startswith("/status/"):
                status = int(self.path.rsplit("/", 1)[-1])
            self.answer(status, {"path": self.path})

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

    with serving(Handler) as port:
        state.port = port
        yield state


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON and logs nothing."""

    def answer(self, status: int, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 drops bursts of connections
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up on its call closed the connection: nothing to report


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """`handler` answering on 127.0.0.1:<the port yielded>, in threads, until the block ends."""
    server = _Server(("127.0.0.1", 0), handler)
    # A short poll interval: shutdown() waits for the next poll (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
