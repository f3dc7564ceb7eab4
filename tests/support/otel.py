"""Spans made with the OpenTelemetry SDK, for the daemon's OTLP intake.

A `SpanRecorder` is a tracer provider whose finished spans are kept, then handed to an
exporter in one batch: the SDK's own OTLP/HTTP exporter, or AWS's OTLP-over-UDP one, exactly
as a service's batch processor would hand them over. Trace ids come from the SDK's X-Ray id
generator (the time in their first 32 bits), as AWS documents for X-Ray.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, Tracer

from .xray_documents import USERMGMT


def xray_trace_id(context: SpanContext) -> str:
    """The X-Ray form of an OpenTelemetry trace id (1-<8 hex>-<24 hex>)."""
    text = format(context.trace_id, "032x")
    return f"1-{text[:8]}-{text[8:]}"


def span_id(span: Span | ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return format(context.span_id, "016x")


class SpanRecorder:
    """A tracer provider for one service (its resource), keeping what it records."""

    def __init__(self, resource: Mapping[str, Any]) -> None:
        self._memory = InMemorySpanExporter()
        self.provider = TracerProvider(
            resource=Resource.create(dict(resource)), id_generator=AwsXRayIdGenerator()
        )
        self.provider.add_span_processor(SimpleSpanProcessor(self._memory))

    def tracer(self, name: str = "tests") -> Tracer:
        return self.provider.get_tracer(name)

    @property
    def spans(self) -> Sequence[ReadableSpan]:
        return self._memory.get_finished_spans()

    def export(self, exporter: SpanExporter) -> None:
        """Hand every recorded span to `exporter` in one batch, then forget them."""
        spans = self.spans
        result = exporter.export(spans)
        assert result is SpanExportResult.SUCCESS, f"exporting {len(spans)} spans: {result}"
        self._memory.clear()

    def shutdown(self) -> None:
        self.provider.shutdown()


def otlp_http_exporter(url: str, *, gzip: bool = False) -> OTLPSpanExporter:
    """The SDK's own OTLP/HTTP exporter (protobuf), pointed at `url`."""
    return OTLPSpanExporter(
        endpoint=url,
        timeout=10,
        compression=Compression.Gzip if gzip else Compression.NoCompression,
    )


def _nanos(seconds: float) -> int:
    return round(seconds * 1e9)


class ChainRecorders:
    """User management and notification as two OpenTelemetry services (two resources)."""

    def __init__(self, notification: str) -> None:
        self.usermgmt = SpanRecorder({"service.name": USERMGMT})
        self.notification = SpanRecorder({"service.name": notification})

    def export(self, exporter: SpanExporter) -> None:
        for recorder in (self.usermgmt, self.notification):
            recorder.export(exporter)

    @property
    def spans(self) -> list[ReadableSpan]:
        return [*self.usermgmt.spans, *self.notification.spans]


def chain_spans(
    recorders: ChainRecorders,
    *,
    version: str,
    start: float,
    sql_calls: int = 0,
    notification_status: int = 200,
    database: str = "usermgmt",
    database_host: str = "mysql",
) -> str:
    """The call of tests/support/xray_documents.py's chain_trace as OpenTelemetry spans,
    with the same times, names and statuses (by the awsxrayexporter's rules); returns the
    X-Ray trace id. The notification span continues the trace from the call's context, as
    the X-Ray propagator carries it in X-Amzn-Trace-Id."""
    usermgmt = recorders.usermgmt.tracer()
    call_start = start + 0.001 * (sql_calls + 1)
    caller_status = 200 if notification_status < 400 else 502
    server = usermgmt.start_span(
        "GET /usermgmt/notification-xray",
        kind=SpanKind.SERVER,
        start_time=_nanos(start),
        attributes={
            "http.method": "GET",
            "http.url": "http://usermgmt:8095/usermgmt/notification-xray",
            "http.status_code": caller_status,
        },
    )
    inside = trace.set_span_in_context(server)
    for index in range(sql_calls):
        began = start + 0.001 * (index + 1)
        statement = usermgmt.start_span(
            "SELECT usermgmt",
            kind=SpanKind.CLIENT,
            context=inside,
            start_time=_nanos(began),
            attributes={
                "db.system": "mysql",
                "db.name": database,
                "db.statement": "SELECT users.username FROM users WHERE users.username = %(u)s",
                "db.connection_string": f"mysql://{database_host}:3306",
            },
        )
        statement.end(end_time=_nanos(began + 0.0005))
    call = usermgmt.start_span(
        "GET",
        kind=SpanKind.CLIENT,
        context=inside,
        start_time=_nanos(call_start),
        attributes={
            "http.method": "GET",
            "http.url": "http://notification:8096/notification/xray",
            "http.status_code": notification_status,
            "peer.service": "notification",
        },
    )
    callee = recorders.notification.tracer().start_span(
        "GET /notification/xray",
        kind=SpanKind.SERVER,
        context=trace.set_span_in_context(NonRecordingSpan(call.get_span_context())),
        start_time=_nanos(call_start + 0.002),
        attributes={
            "http.method": "GET",
            "http.url": "http://notification:8096/notification/xray",
            "http.status_code": notification_status,
            "app_version": version,
            "aws.xray.annotations": ["app_version"],
        },
    )
    callee.end(end_time=_nanos(call_start + 0.008))
    call.end(end_time=_nanos(call_start + 0.010))
    server.end(end_time=_nanos(call_start + 0.012))
    return xray_trace_id(server.get_span_context())
