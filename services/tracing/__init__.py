"""X-Ray instrumentation for the services: the only package that touches `aws_xray_sdk`.

Swapping to OpenTelemetry later means rewriting this package, not the services.

Importing it does not import the SDK: the SDK parses AWS_XRAY_DAEMON_ADDRESS on import and
dies with a traceback on a bad value, so the services validate `TracingSettings` first and
only then touch the names that need the SDK (`Tracer`, the middleware, the hooks), which load
on first use. Settings, `current_trace_id` and the log filter never need it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._current import current_trace_id
from ._logging import TraceIdFilter
from .config import ContextMissing, DaemonAddress, Endpoint, TracingSettings

if TYPE_CHECKING:
    from ._header import HEADER_NAME, TraceHeader, format_trace_header, parse_trace_header
    from ._httpx import (
        AsyncTracingTransport,
        TracingTransport,
        traced_async_transport,
        traced_transport,
    )
    from ._middleware import XRayMiddleware
    from ._sql import instrument_engine
    from ._tracer import Tracer

__all__ = [
    "HEADER_NAME",
    "AsyncTracingTransport",
    "ContextMissing",
    "DaemonAddress",
    "Endpoint",
    "TraceHeader",
    "TraceIdFilter",
    "Tracer",
    "TracingSettings",
    "TracingTransport",
    "XRayMiddleware",
    "current_trace_id",
    "format_trace_header",
    "instrument_engine",
    "parse_trace_header",
    "traced_async_transport",
    "traced_transport",
]

_LAZY = {
    "HEADER_NAME": "._header",
    "TraceHeader": "._header",
    "format_trace_header": "._header",
    "parse_trace_header": "._header",
    "AsyncTracingTransport": "._httpx",
    "TracingTransport": "._httpx",
    "traced_async_transport": "._httpx",
    "traced_transport": "._httpx",
    "XRayMiddleware": "._middleware",
    "instrument_engine": "._sql",
    "Tracer": "._tracer",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
