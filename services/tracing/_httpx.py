"""httpx transports that record every outbound request as a call to another service.

Wrapping the transport (rather than patching `httpx.Client` globally, as the SDK does) traces
exactly the clients a service builds with it: every request they make, whatever the endpoint.
The call is named after the host, carries method, URL (no query, no credentials) and status,
and its trace header goes out with the request, so the callee's segment hangs directly below
it in the trace.
"""

from __future__ import annotations

import httpx

from ._header import HEADER_NAME
from ._seam import OutboundCall, Recorder


class TracingTransport(httpx.BaseTransport):
    def __init__(self, recorder: Recorder, transport: httpx.BaseTransport) -> None:
        self._recorder = recorder
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._recorder.outbound_call(_host(request), propagated=True) as call:
            _prepare(request, call)
            response = self._transport.handle_request(request)
            _record(call, response)
            return response

    def close(self) -> None:
        self._transport.close()


class AsyncTracingTransport(httpx.AsyncBaseTransport):
    def __init__(self, recorder: Recorder, transport: httpx.AsyncBaseTransport) -> None:
        self._recorder = recorder
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with self._recorder.outbound_call(_host(request), propagated=True) as call:
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
    if call.recorded:
        call.put_http_meta("method", request.method)
        call.put_http_meta("url", _recorded_url(request.url))


def _recorded_url(url: httpx.URL) -> str:
    """The URL without credentials, query or fragment.

    Put together from the parts httpx has already parsed and encoded: `copy_with` would
    parse and re-encode the whole URL again, which cost more than the rest of the subsegment.
    """
    path = url.raw_path.partition(b"?")[0]
    return f"{url.scheme}://{url.netloc.decode('ascii')}{path.decode('ascii')}"


def _record(call: OutboundCall, response: httpx.Response) -> None:
    if call.recorded:
        call.put_http_meta("status", response.status_code)
        length = response.headers.get("content-length")
        if length and length.isdigit():
            call.put_http_meta("content_length", int(length))
