"""httpx transports that record every outbound request as a `remote` subsegment.

Wrapping the transport (rather than patching `httpx.Client` globally, as the SDK does) traces
exactly the clients a service builds with it: every request they make, whatever the endpoint.
The subsegment is named after the host, carries method, URL (no query, no credentials) and
status, and its id goes out as the Parent in X-Amzn-Trace-Id, so the callee's segment hangs
directly below it in the trace.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._header import HEADER_NAME
from ._tracer import OutboundCall, Tracer


class TracingTransport(httpx.BaseTransport):
    def __init__(self, tracer: Tracer, transport: httpx.BaseTransport) -> None:
        self._tracer = tracer
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._tracer.outbound_call(_host(request)) as call:
            _prepare(request, call)
            response = self._transport.handle_request(request)
            _record(call, response)
            return response

    def close(self) -> None:
        self._transport.close()


class AsyncTracingTransport(httpx.AsyncBaseTransport):
    def __init__(self, tracer: Tracer, transport: httpx.AsyncBaseTransport) -> None:
        self._tracer = tracer
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with self._tracer.outbound_call(_host(request)) as call:
            _prepare(request, call)
            response = await self._transport.handle_async_request(request)
            _record(call, response)
            return response

    async def aclose(self) -> None:
        await self._transport.aclose()


def _host(request: httpx.Request) -> str:
    return request.url.host or "unknown-host"


def _prepare(request: httpx.Request, call: OutboundCall) -> None:
    if call.trace_header is not None:
        request.headers[HEADER_NAME] = call.trace_header
    subsegment: Any = call.subsegment
    if subsegment is not None:
        subsegment.traced = True  # the callee is instrumented too: X-Ray links the segments
        subsegment.put_http_meta("method", request.method)
        subsegment.put_http_meta("url", _recorded_url(request.url))


def _recorded_url(url: httpx.URL) -> str:
    """The URL without credentials, query or fragment.

    Put together from the parts httpx has already parsed and encoded: `copy_with` would
    parse and re-encode the whole URL again, which cost more than the rest of the subsegment.
    """
    path = url.raw_path.partition(b"?")[0]
    return f"{url.scheme}://{url.netloc.decode('ascii')}{path.decode('ascii')}"


def _record(call: OutboundCall, response: httpx.Response) -> None:
    if call.subsegment is not None:
        call.subsegment.put_http_meta("status", response.status_code)
        length = response.headers.get("content-length")
        if length and length.isdigit():
            call.subsegment.put_http_meta("content_length", int(length))


def traced_transport(
    tracer: Tracer, transport: httpx.BaseTransport | None = None
) -> httpx.BaseTransport:
    """`transport` (a new HTTPTransport by default), traced when tracing is on."""
    transport = transport or httpx.HTTPTransport()
    return TracingTransport(tracer, transport) if tracer.enabled else transport


def traced_async_transport(
    tracer: Tracer, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncBaseTransport:
    """`transport` (a new AsyncHTTPTransport by default), traced when tracing is on."""
    transport = transport or httpx.AsyncHTTPTransport()
    return AsyncTracingTransport(tracer, transport) if tracer.enabled else transport
