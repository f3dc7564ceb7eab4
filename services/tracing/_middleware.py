"""A pure ASGI middleware that opens one segment per HTTP request.

It wraps the whole application, outside FastAPI's own error handling, so that it sees the
response the client really gets (a 500 from an error handler included) and can put the
X-Amzn-Trace-Id header on every one. Per-request state lives in locals, never on `self`,
because one middleware instance serves every concurrent request.

Tracing must never cost a request its answer: every call into the recorder is guarded, and a
failing one is logged and leaves the request served, untraced if need be.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import _current
from ._header import HEADER_NAME, TraceHeader, format_trace_header, parse_trace_header
from ._seam import Recorder, SamplingRequest, Segment

log = logging.getLogger(__name__)

T = TypeVar("T")
# RFC 3986 host: a registered name or IPv4 address, or an IP literal in brackets; then a port.
_HOST = re.compile(r"^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


class TracingMiddleware:
    def __init__(
        self, app: ASGIApp, *, recorder: Recorder, untraced_paths: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.recorder = recorder
        self.untraced_paths = frozenset(untraced_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = parse_trace_header(headers.get(HEADER_NAME))
        if scope["path"] in self.untraced_paths:
            # Never recorded: a caller asking for the decision ('?') is told it is not sampled.
            not_sampled = False if _asks_for_decision(incoming) else None
            with self.recorder.untraced(incoming.root if incoming else None) as trace_id:
                response = _Response(send, format_trace_header(trace_id, sampled=not_sampled))
                await self.app(scope, receive, response.send)
            return
        host = _host(headers, scope)
        request = SamplingRequest(host=host, method=scope["method"], path=scope["path"])
        with _current.scope():
            segment = _guarded(self.recorder.begin_segment, incoming, request)
            if segment is None:
                await self.app(scope, receive, send)
                return
            if segment.sampled:
                _guarded(_put_request, segment, scope, headers, host)
            await self._traced(scope, receive, send, segment, incoming)

    async def _traced(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        segment: Segment,
        incoming: TraceHeader | None,
    ) -> None:
        asked = _asks_for_decision(incoming)
        response = _Response(
            send, format_trace_header(segment.trace_id, sampled=segment.sampled if asked else None)
        )
        try:
            await self.app(scope, receive, response.send)
        except Exception as exc:
            _guarded(segment.add_exception, exc)
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if response.status is None:
                raise  # nobody answered: let the server send its 500
            # Answered already (FastAPI's error handler sent the JSON 500) and logged here,
            # with the trace id; re-raising would only make the server log it a second time.
        finally:
            _guarded(self._end, segment, response)

    def _end(self, segment: Segment, response: _Response) -> None:
        try:
            segment.put_http_meta("status", response.status or 500)
            segment.put_http_meta("content_length", response.body_bytes)
        finally:
            # The segment lasts as long as the client waited. Background tasks run after the
            # response and may still add subsegments, so it is closed only now.
            self.recorder.end_segment(response.finished_at)


def _guarded(action: Callable[..., T], *args: object) -> T | None:
    """`action(*args)`, or None if it raised: a tracing failure is logged, never passed on."""
    try:
        return action(*args)
    except Exception:
        log.exception("tracing failed in %s; the request goes on", action.__name__)
        return None


class _Response:
    """Watches one response go out: adds the trace header, notes status, size and end."""

    def __init__(self, send: Send, trace_header: str) -> None:
        self._send = send
        self._trace_header = trace_header
        self.status: int | None = None
        self.body_bytes = 0
        self.finished_at: float | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            MutableHeaders(scope=message).append(HEADER_NAME, self._trace_header)
        elif message["type"] == "http.response.body":
            self.body_bytes += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.finished_at = time.time()
        await self._send(message)


def _asks_for_decision(incoming: TraceHeader | None) -> bool:
    """'?' asks the callee to tell the caller what it decided."""
    return incoming is not None and incoming.sampled == "?"


def _put_request(segment: Segment, scope: Scope, headers: Headers, host: str) -> None:
    """The scheme and client are the server's (uvicorn takes X-Forwarded-Proto and -For into
    them from the proxies in FORWARDED_ALLOW_IPS only); the headers themselves, which any
    client can send, are not read here."""
    # The path as the client sent it: the server has put root_path in it already (uvicorn
    # does, as the ASGI spec asks), so adding root_path again would write it twice.
    segment.put_http_meta("method", scope["method"])
    segment.put_http_meta("url", f"{scope.get('scheme', 'http')}://{host}{scope['path']}")
    if scope.get("client"):
        client_ip = scope["client"][0]
        segment.put_http_meta("client_ip", client_ip)
        forwarded_for = headers.get("x-forwarded-for", "")
        if client_ip in (address.strip() for address in forwarded_for.split(",")):
            segment.put_http_meta("x_forwarded_for", True)  # the server took it from there
    user_agent = headers.get("user-agent")
    if user_agent:
        segment.put_http_meta("user_agent", user_agent)


def _host(headers: Headers, scope: Scope) -> str:
    """The Host header if it is a host name or address with an optional port (RFC 3986);
    anything else a client sent there is not put into the recorded URL."""
    host = headers.get("host")
    if host and _HOST.match(host):
        return host
    return _server_host(scope)


def _server_host(scope: Scope) -> str:
    server = scope.get("server")
    if not server:
        return "localhost"
    host, port = server[0], server[1]
    return host if port in (None, 80, 443) else f"{host}:{port}"
