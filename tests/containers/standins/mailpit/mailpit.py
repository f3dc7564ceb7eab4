#!/usr/bin/python3
"""Stand-in for axllent/mailpit in the container tests: what docker-compose.yml relies on.

- SMTP on port 1025 taking every message, without authentication or TLS, as mailpit does by
  default; the newest MAX_MESSAGES are kept (mailpit's default limit too).
- HTTP on port 8025: GET /readyz and /livez, GET /api/v1/messages (mailpit's message list,
  newest first, with the fields the tests and the docs read) and an inbox page at /.
- `/mailpit readyz`: the readiness command, exit 0 when the HTTP side answers /readyz.

Built from Debian's python3 and python3-aiosmtpd; it only imports what they ship.
"""

from __future__ import annotations

import html
import json
import signal
import sys
import threading
import urllib.request
import uuid
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SMTP_PORT = 1025
HTTP_PORT = 8025
MAX_MESSAGES = 500
SNIPPET_CHARS = 250
READY_TIMEOUT_SECONDS = 2


class Inbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: deque[dict[str, Any]] = deque(maxlen=MAX_MESSAGES)

    def add(self, raw: bytes) -> None:
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(("plain", "html"))
        text = body.get_content() if body is not None else ""
        summary = {
            "ID": str(uuid.uuid4()),
            "MessageID": str(parsed.get("Message-ID", "")).strip("<>"),
            "Read": False,
            "From": _first(_addresses(parsed, "From")),
            "To": _addresses(parsed, "To"),
            "Cc": _addresses(parsed, "Cc"),
            "Bcc": [],
            "ReplyTo": _addresses(parsed, "Reply-To"),
            "Subject": str(parsed.get("Subject", "")),
            "Created": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "Tags": [],
            "Size": len(raw),
            "Attachments": 0,
            "Snippet": " ".join(text.split())[:SNIPPET_CHARS],
        }
        with self._lock:
            self._messages.appendleft(summary)

    def listing(self) -> dict[str, Any]:
        with self._lock:
            messages = list(self._messages)
        return {
            "total": len(messages),
            "unread": len(messages),
            "count": len(messages),
            "messages_count": len(messages),
            "start": 0,
            "tags": [],
            "messages": messages,
        }


def _addresses(message: EmailMessage, header: str) -> list[dict[str, str]]:
    value = message.get(header)
    found: tuple[Address, ...] = getattr(value, "addresses", ()) if value is not None else ()
    return [{"Name": a.display_name, "Address": a.addr_spec} for a in found]


def _first(addresses: list[dict[str, str]]) -> dict[str, str]:
    return addresses[0] if addresses else {"Name": "", "Address": ""}


class SmtpHandler:
    """aiosmtpd's handler: every message is accepted into the inbox."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.inbox.add(envelope.original_content or envelope.content)
        return "250 OK: queued"


def http_handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path in ("/readyz", "/livez"):
                self._send(200, "text/plain; charset=utf-8", b"ok")
            elif path == "/api/v1/messages":
                body = json.dumps(inbox.listing()).encode()
                self._send(200, "application/json", body)
            elif path == "/":
                self._send(200, "text/html; charset=utf-8", _page(inbox.listing()).encode())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: the health check asks every few seconds."""

    return Handler


def _page(listing: dict[str, Any]) -> str:
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(m["Created"]),
            html.escape(m["From"]["Address"]),
            html.escape(", ".join(a["Address"] for a in m["To"])),
            html.escape(m["Subject"]),
        )
        for m in listing["messages"]
    )
    return (
        "<!doctype html><title>Inbox</title><h1>Inbox (stand-in for mailpit)</h1>"
        f"<table><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr>{rows}</table>"
    )


def serve() -> None:
    from aiosmtpd.controller import Controller  # Debian's python3-aiosmtpd

    # PID 1 gets no default action for SIGTERM: without a handler, `docker stop` would wait
    # its whole timeout and then kill, where mailpit stops at once.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    inbox = Inbox()
    smtp = Controller(SmtpHandler(inbox), hostname="0.0.0.0", port=SMTP_PORT)
    smtp.start()
    print(f"SMTP on 0.0.0.0:{SMTP_PORT}, HTTP on 0.0.0.0:{HTTP_PORT}", flush=True)
    try:
        ThreadingHTTPServer(("0.0.0.0", HTTP_PORT), http_handler(inbox)).serve_forever()
    finally:
        smtp.stop()


def readyz() -> int:
    url = f"http://127.0.0.1:{HTTP_PORT}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=READY_TIMEOUT_SECONDS) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as exc:
        print(exc, file=sys.stderr)
        return 1


def main(args: list[str]) -> int:
    if args == ["readyz"]:
        return readyz()
    if args:
        print(f"this stand-in knows no arguments but `readyz`: {args}", file=sys.stderr)
        return 2
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
