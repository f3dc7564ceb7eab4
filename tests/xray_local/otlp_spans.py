"""Spans and requests made with the protobuf classes, for the in-process OTLP tests: what
the SDK cannot make (bad ids, local roots, links, any attribute)."""

from __future__ import annotations

import secrets
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span


def request(*spans: Span, resource: dict[str, str] | None = None) -> ExportTraceServiceRequest:
    made = ExportTraceServiceRequest()
    resource_spans = made.resource_spans.add()
    for key, value in (resource or {"service.name": "svc"}).items():
        resource_spans.resource.attributes.add(key=key).value.string_value = value
    resource_spans.scope_spans.add().spans.extend(spans)
    return made


def span(kind: int, parent: bytes = b"", trace_id: bytes | None = None, **attributes: str) -> Span:
    now = time.time_ns()
    made = Span(
        trace_id=trace_id or int(time.time()).to_bytes(4, "big") + secrets.token_bytes(12),
        span_id=secrets.token_bytes(8),
        parent_span_id=parent,
        name="operation",
        kind=kind,  # type: ignore[arg-type]
        start_time_unix_nano=now - 5_000_000,
        end_time_unix_nano=now,
    )
    for key, value in attributes.items():
        made.attributes.add(key=key).value.string_value = value
    return made
