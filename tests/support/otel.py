"""Spans made with the OpenTelemetry SDK, for the daemon's OTLP intake.

A `SpanRecorder` is a tracer provider whose finished spans are kept, then handed to an
exporter in one batch: the SDK's own OTLP/HTTP exporter, or AWS's OTLP-over-UDP one, exactly
as a service's batch processor would hand them over. Trace ids come from the SDK's X-Ray id
generator (the time in their first 32 bits), as AWS documents for X-Ray.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanContext, Tracer


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
