"""OTLP into a running daemon: AWS's own UDP exporter, and bodies and datagrams no exporter
should send, each answered or counted, with the daemon serving on and earlier traces intact."""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from amazon.opentelemetry.distro.otlp_udp_exporter import OTLPUdpSpanExporter
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.trace import SpanKind

from devstack.polling import poll_until
from tests.support.otel import ChainRecorders, SpanRecorder, chain_spans, otlp_http_exporter
from tests.support.xray_documents import PROTOCOL_HEADER, USERMGMT, notification_name
from tests.support.xray_local import LocalXRay

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def _documents(xray: LocalXRay, trace_id: str, *names: str) -> list[dict[str, Any]]:
    """The trace's documents as sent (inferred ones left out), once those named are in."""

    def arrived() -> list[dict[str, Any]] | None:
        traces = xray.client().batch_get_traces(TraceIds=[trace_id])["Traces"]
        found = [json.loads(s["Document"]) for t in traces for s in t["Segments"]]
        sent = [document for document in found if not document.get("inferred")]
        return sent if set(names) <= {document["name"] for document in sent} else None

    return poll_until(arrived, f"documents {names} of {trace_id}")


def test_aws_udp_exporter_spans_are_stored_and_drawn(xray: LocalXRay) -> None:
    """aws-opentelemetry-distro's OTLPUdpSpanExporter, pointed at the daemon address as
    AWS's distribution points it: `T1S` datagrams stored and drawn, `T1U` counted only."""
    start = time.time()
    recorders = ChainRecorders(notification_name("V2"))
    trace_id = chain_spans(recorders, version="V2", start=start, sql_calls=1)
    sampled = OTLPUdpSpanExporter(endpoint=xray.udp_address)
    recorders.export(sampled)
    sampled.shutdown()
    documents = _documents(xray, trace_id, USERMGMT, notification_name("V2"))
    assert len(documents) == 2
    services = xray.client().get_service_graph(StartTime=start - 1, EndTime=time.time() + 1)[
        "Services"
    ]
    assert {(s["Name"], s["Type"]) for s in services} >= {
        (USERMGMT, "service"),
        (notification_name("V2"), "service"),
        ("usermgmt@mysql", "Database::SQL"),
    }
    unsampled = OTLPUdpSpanExporter(endpoint=xray.udp_address, sampled=False)
    recorder = SpanRecorder({"service.name": "unsampled"})
    recorder.tracer().start_span("GET /", kind=SpanKind.SERVER).end()
    recorder.export(unsampled)
    unsampled.shutdown()
    stats = poll_until(
        lambda: (s := xray.stats())["otlp"]["unsampled_spans"] == 1 and s,
        "the unsampled span to be counted",
    )
    assert (
        stats["otlp"]["datagrams"] == 3
    )  # one per export: user management, notification, unsampled
    assert all(
        s["Name"] != "unsampled"
        for s in xray.client().get_service_graph(StartTime=start - 1, EndTime=time.time() + 1)[
            "Services"
        ]
    )


def _valid_request() -> ExportTraceServiceRequest:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    recorder = SpanRecorder({"service.name": "bad-input"})
    recorder.tracer().start_span("GET /", kind=SpanKind.SERVER).end()
    return encode_spans(recorder.spans)


def _with_span(change: Callable[[Span], None]) -> bytes:
    request = _valid_request()
    change(request.resource_spans[0].scope_spans[0].spans[0])
    return request.SerializeToString()


BAD_BODIES = [
    # (id, body, content type, extra headers, status, counted reason)
    ("not-protobuf", b"\xff\xff\xff\xff", PROTOBUF, {}, 400, "otlp_bad_body"),
    ("not-json", b"{nope", JSON, {}, 400, "otlp_bad_body"),
    ("json-not-an-object", b"[1, 2]", JSON, {}, 400, "otlp_bad_body"),
    (
        "json-id-not-hex",
        json.dumps(
            {
                "resourceSpans": [
                    {"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "00f067aa0ba902b7"}]}]}
                ]
            }
        ).encode(),
        JSON,
        {},
        400,
        "otlp_bad_body",
    ),
    (
        "gzip-broken",
        b"\x1f\x8b\x08\x00garbage",
        PROTOBUF,
        {"content-encoding": "gzip"},
        400,
        "otlp_bad_body",
    ),
    ("oversized", b"\x00" * (1024 * 1024 + 1), PROTOBUF, {}, 413, "otlp_too_large"),
    (
        "oversized-once-inflated",
        gzip.compress(b"\x00" * (2 * 1024 * 1024)),
        PROTOBUF,
        {"content-encoding": "gzip"},
        413,
        "otlp_too_large",
    ),
    ("unknown-content-type", b"x", "text/plain", {}, 415, "otlp_unsupported"),
    ("unknown-encoding", b"x", PROTOBUF, {"content-encoding": "br"}, 415, "otlp_unsupported"),
]


def _no_trace_id(span: Span) -> None:
    span.ClearField("trace_id")


def _short_span_id(span: Span) -> None:
    span.span_id = b"\x01\x02\x03"


def _long_parent_id(span: Span) -> None:
    span.parent_span_id = b"\x01" * 9


def _no_start_time(span: Span) -> None:
    span.start_time_unix_nano = 0


def _ends_before_it_starts(span: Span) -> None:
    span.end_time_unix_nano = span.start_time_unix_nano - 1


def _ends_in_2500(span: Span) -> None:
    span.end_time_unix_nano = 16_725_225_600 * 10**9


def _huge_attribute(span: Span) -> None:
    span.attributes.add(key="blob").value.string_value = "x" * 100_000


BAD_SPANS: list[tuple[Callable[[Span], None], str]] = [
    # (a change to a valid span, the reason it is counted under)
    (_no_trace_id, "otlp_invalid_span"),
    (_short_span_id, "otlp_invalid_span"),
    (_long_parent_id, "otlp_invalid_span"),
    (_no_start_time, "otlp_bad_timestamp"),
    (_ends_before_it_starts, "otlp_bad_timestamp"),
    (_ends_in_2500, "otlp_bad_timestamp"),
    (_huge_attribute, "oversized"),  # its document is over X-Ray's 64 KB
]

BAD_DATAGRAMS = [
    (PROTOCOL_HEADER + b"T1S" + b"not base64!", "otlp_bad_datagram"),
    (PROTOCOL_HEADER + b"T1S" + base64.b64encode(b"\xff\xff\xff"), "otlp_bad_datagram"),
    (PROTOCOL_HEADER + b"M1" + base64.b64encode(b""), "otlp_metrics"),
]


@pytest.fixture
def small_limit(processes: Any) -> LocalXRay:
    from tests.support.xray_local import start_xray_local

    return start_xray_local(processes, "--otlp-max-body-bytes", str(1024 * 1024))


def test_bad_otlp_is_refused_or_counted_and_nothing_else_is_lost(small_limit: LocalXRay) -> None:
    xray = small_limit
    recorders = ChainRecorders(notification_name("V1"))
    earlier = chain_spans(recorders, version="V1", start=time.time())
    recorders.export(otlp_http_exporter(xray.otlp_traces_url))
    before = _documents(xray, earlier, USERMGMT, notification_name("V1"))

    for name, body, content_type, headers, status, _reason in BAD_BODIES:
        answer = xray.post_otlp(body, content_type, **headers)
        assert answer.status_code == status, name
        if content_type == PROTOBUF:
            message = status_pb2.Status.FromString(answer.content).message
        else:
            message = answer.json()["message"]  # JSON (text/plain asked for: JSON too)
        assert message and "Traceback" not in message, name

    for change, _reason in BAD_SPANS:
        answer = xray.post_otlp(_with_span(change))
        assert answer.status_code == 200, change.__name__
        partial = ExportTraceServiceResponse.FromString(answer.content).partial_success
        assert partial.rejected_spans == 1 and partial.error_message, change.__name__

    xray.send(datagram for datagram, _reason in BAD_DATAGRAMS)
    expected: dict[str, int] = {}
    for reason in (
        [r for *_, r in BAD_BODIES] + [r for *_, r in BAD_SPANS] + [r for _, r in BAD_DATAGRAMS]
    ):
        expected[reason] = expected.get(reason, 0) + 1
    stats = poll_until(
        lambda: (s := xray.stats())["intake"]["rejected"] == expected and s,
        f"the rejections counted as {expected}",
    )
    assert stats["otlp"]["rejected_spans"] == len(BAD_SPANS)
    # Still serving, and what came before is as it was.
    assert xray.post_otlp(_valid_request().SerializeToString()).status_code == 200
    assert sorted(json.dumps(d, sort_keys=True) for d in _documents(xray, earlier)) == sorted(
        json.dumps(d, sort_keys=True) for d in before
    )
    assert "Traceback" not in xray.log_text()
