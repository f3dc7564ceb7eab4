"""One map whichever way a service reports: the same calls sent as X-Ray SDK segments (UDP)
and as OpenTelemetry spans (OTLP/HTTP), and a trace that is half of each."""

from __future__ import annotations

import json
import time
from typing import Any

from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.trace import SpanKind

from devstack.polling import poll_until
from devstack.processes import ProcessGroup
from tests.support.otel import (
    ChainRecorders,
    SpanRecorder,
    chain_spans,
    otlp_http_exporter,
    span_id,
    xray_trace_id,
)
from tests.support.service_graph import shape
from tests.support.xray_documents import (
    USERMGMT,
    chain_trace,
    http_call,
    new_trace_id,
    notification_name,
    segment,
)
from tests.support.xray_local import LocalXRay, start_xray_local

# (version, SQL statements, notification's status): faults and the database node included.
CALLS = [("V1", 0, 200), ("V1", 2, 200), ("V2", 1, 200), ("V2", 0, 500), ("V1", 0, 429)]


def _graph(xray: LocalXRay, start: float, expected_nodes: int) -> list[dict[str, Any]]:
    def settled() -> list[dict[str, Any]] | None:
        services: list[dict[str, Any]] = xray.client().get_service_graph(
            StartTime=start - 1, EndTime=time.time() + 1
        )["Services"]
        total = sum(s.get("SummaryStatistics", {}).get("TotalCount", 0) for s in services)
        return services if len(services) == expected_nodes and total else None

    return poll_until(settled, f"a service graph of {expected_nodes} nodes")


def test_the_same_calls_as_segments_and_as_spans_draw_the_same_map(
    processes: ProcessGroup,
) -> None:
    by_udp = start_xray_local(processes, name="xray-udp")
    by_otlp = start_xray_local(processes, name="xray-otlp")
    start = time.time()
    documents = []
    exporter = otlp_http_exporter(by_otlp.otlp_traces_url)
    for index, (version, sql_calls, status) in enumerate(CALLS):
        at = start + index * 0.05
        documents += chain_trace(
            version=version, start=at, sql_calls=sql_calls, notification_status=status
        )
        recorders = ChainRecorders(notification_name(version))
        chain_spans(
            recorders, version=version, start=at, sql_calls=sql_calls, notification_status=status
        )
        recorders.export(exporter)
    by_udp.send(documents)
    by_udp.wait_for_datagrams(len(documents))
    # client, user management, V1, V2, the database, nothing else
    # Nodes and edges with their counts, and the edges' response times too.
    expected = shape(_graph(by_udp, start, expected_nodes=5), response_times=True)
    assert shape(_graph(by_otlp, start, expected_nodes=5), response_times=True) == expected
    assert ("usermgmt@mysql", "Database::SQL") in {
        (s["Name"], s["Type"]) for s in _graph(by_otlp, start, expected_nodes=5)
    }


def test_an_x_ray_caller_and_an_opentelemetry_callee_make_one_trace(xray: LocalXRay) -> None:
    """User management on the X-Ray SDK (UDP), notification on OpenTelemetry (OTLP/HTTP),
    the trace carried from one to the other in X-Amzn-Trace-Id."""
    start = time.time()
    trace_id = new_trace_id(start)
    call = http_call("notification", trace_id=trace_id, start=start + 0.001, end=start + 0.009)
    caller = segment(USERMGMT, trace_id=trace_id, start=start, end=start + 0.01, subsegments=[call])
    xray.send([caller])
    # What the X-Ray SDK's httpx patch puts on the outgoing request...
    header = f"Root={trace_id};Parent={call['id']};Sampled=1"
    # ...and what the callee's X-Ray propagator makes of it.
    parent = AwsXRayPropagator().extract({"X-Amzn-Trace-Id": header})
    recorder = SpanRecorder({"service.name": notification_name("V2")})
    callee = recorder.tracer().start_span(
        "GET /notification/xray",
        kind=SpanKind.SERVER,
        context=parent,
        attributes={"http.method": "GET", "http.status_code": 200},
    )
    callee.end()
    recorder.export(otlp_http_exporter(xray.otlp_traces_url))
    assert xray_trace_id(callee.get_span_context()) == trace_id

    def both() -> list[dict[str, Any]] | None:
        traces = xray.client().batch_get_traces(TraceIds=[trace_id])["Traces"]
        found = [json.loads(s["Document"]) for t in traces for s in t["Segments"]]
        return found if len(traces) == 1 and len(found) >= 2 else None

    documents = {document["name"]: document for document in poll_until(both, "both halves")}
    notification = documents[notification_name("V2")]
    assert notification["id"] == span_id(callee)
    assert notification["parent_id"] == call["id"]  # the caller's outbound call
    assert notification["trace_id"] == documents[USERMGMT]["trace_id"] == trace_id
    services = xray.client().get_service_graph(StartTime=start - 1, EndTime=time.time() + 1)[
        "Services"
    ]
    names = {service["ReferenceId"]: service["Name"] for service in services}
    usermgmt = next(s for s in services if s["Name"] == USERMGMT and s["Type"] != "client")
    assert {names[edge["ReferenceId"]] for edge in usermgmt["Edges"]} == {notification_name("V2")}
