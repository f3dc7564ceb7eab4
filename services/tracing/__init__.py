"""Tracing for the services: the only package that touches a tracing SDK.

A request's path through the package (either backend)::

    settings   TracingSettings (config.py) from AWS_XRAY_*, TRACING_SDK, OTEL_* ──> create_tracer()
               picks the backend once at start-up: DisabledTracer (_disabled) when
               AWS_XRAY_SDK_ENABLED=false (or OTEL_SDK_DISABLED=true with otel); XRayTracer
               (_xray), which owns the SDK's recorder, when TRACING_SDK=xray (the default);
               OtelTracer (_otel: spans, _otel_spans: X-Ray fields as span attributes,
               _otel_sampling: X-Ray rules) when TRACING_SDK=otel

    request ──> instrument_app(app, tracer)           _middleware.TracingMiddleware
                │ X-Amzn-Trace-Id in (_header) ─> begin_segment ─> Segment, current in _current
                │
                ├─ SQL via SQLAlchemy      instrument_engine(engine, tracer)    _sql: a Call
                ├─ httpx to a service      traced_async_transport(tracer)       _httpx: a Call,
                │                              X-Amzn-Trace-Id out with the call's id as Parent
                └─ any other call          with tracer.outbound_call(name) as call:
                                               call.put_metadata(...)
                │
    response <──┘ X-Amzn-Trace-Id on it; end_segment ─> XRayTracer ─> _emitter: the segment
                  document (split by _documents where one datagram is too small) over UDP
                  to the daemon, resolved once, never blocking; or ─> OtelTracer ─> the
                  span, batched from a bounded queue, OTLP/HTTP to the collector
    log lines: TraceIdFilter (_logging) reads current_trace_id() from _current

What a service sees is small and typed (`_seam`): a `Tracer` from `create_tracer`, the four
`instrument_*`/`traced_*` functions, and `OutboundCall`. The hooks (_middleware, _httpx,
_sql) drive a `Recorder` and record on the `Segment` and `Call` protocols; `RecordingTracer`
(_recording) gives them to any backend that implements the `Recorder` methods. Another
backend is one more module here and one more branch in `create_tracer`, and it keeps its open
entities in `_current` so log lines carry its trace ids: the services do not change.

Importing this package imports no SDK, neither the X-Ray SDK nor OpenTelemetry: the X-Ray SDK
parses AWS_XRAY_DAEMON_ADDRESS on import and dies with a traceback on a bad value, so the
services validate `TracingSettings` first and `create_tracer` loads the backend afterwards,
only if tracing is on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import httpx
from starlette.types import ASGIApp

from ._current import current_trace_id
from ._disabled import DisabledTracer
from ._header import HEADER_NAME, TraceHeader, format_trace_header, parse_trace_header
from ._logging import TraceIdFilter
from ._seam import (
    AnnotationValue,
    Call,
    OutboundCall,
    Recorder,
    SamplingRequest,
    Segment,
    Tracer,
)
from .config import ContextMissing, DaemonAddress, Endpoint, TracingSdk, TracingSettings

if TYPE_CHECKING:  # SQLAlchemy is installed with the services that have a database only
    from sqlalchemy.engine import Engine

__all__ = [
    "HEADER_NAME",
    "SDK_LOGGERS",
    "AnnotationValue",
    "Call",
    "ContextMissing",
    "DaemonAddress",
    "Endpoint",
    "OutboundCall",
    "Recorder",
    "SamplingRequest",
    "Segment",
    "TraceHeader",
    "TraceIdFilter",
    "Tracer",
    "TracingSdk",
    "TracingSettings",
    "create_tracer",
    "current_trace_id",
    "format_trace_header",
    "instrument_app",
    "instrument_engine",
    "parse_trace_header",
    "traced_async_transport",
    "traced_transport",
]


# Loggers of the libraries behind the seam, too chatty at INFO for a service's log: the X-Ray
# SDK's sampler logs every decision made without centralized rules, botocore its polling,
# AWS's OpenTelemetry sampler its defaults.
SDK_LOGGERS = ("aws_xray_sdk", "botocore", "amazon.opentelemetry", "opentelemetry")


def create_tracer(
    settings: TracingSettings,
    *,
    default_name: str,
    annotations: Mapping[str, AnnotationValue] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Tracer:
    """The service's tracer, recording with the SDK TRACING_SDK names. `default_name` names
    the service on the map unless AWS_XRAY_TRACING_NAME does (or, with OpenTelemetry,
    OTEL_SERVICE_NAME); `annotations` go on every sampled segment (filterable)."""
    if not settings.active:
        return DisabledTracer(settings.name or default_name)
    if settings.sdk is TracingSdk.OTEL:
        from ._otel import OtelTracer  # OpenTelemetry is imported here, and only here

        name = settings.name or settings.otel_service_name or default_name
        return OtelTracer(settings, name=name, annotations=annotations, environ=environ)
    name = settings.name or default_name
    from ._xray import XRayTracer  # the SDK is imported here, once the settings are valid

    return XRayTracer(settings, name=name, annotations=annotations, environ=environ)


def instrument_app(app: ASGIApp, tracer: Tracer, *, untraced_paths: Iterable[str] = ()) -> ASGIApp:
    """`app` with a segment per request (and the trace header on every response), except on
    `untraced_paths` (health checks); `app` itself when tracing is off."""
    return tracer.instrument_app(app, untraced_paths=untraced_paths)


def instrument_engine(engine: Engine, tracer: Tracer) -> None:
    """Record every SQL statement `engine` runs, placeholders only, as a call."""
    tracer.instrument_engine(engine)


def traced_transport(
    tracer: Tracer, transport: httpx.BaseTransport | None = None
) -> httpx.BaseTransport:
    """`transport` (a new HTTPTransport by default) recording every request as a call."""
    return tracer.traced_transport(transport or httpx.HTTPTransport())


def traced_async_transport(
    tracer: Tracer, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncBaseTransport:
    """`transport` (a new AsyncHTTPTransport by default) recording every request as a call."""
    return tracer.traced_async_transport(transport or httpx.AsyncHTTPTransport())
