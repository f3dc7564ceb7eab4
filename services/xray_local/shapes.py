"""Traces in the X-Ray API's response shapes: TraceSummary, and BatchGetTraces' Trace."""

from __future__ import annotations

import json
from typing import Any

from .analysis import CLIENT_TYPE, Analysis, AnnotationValue, NodeKey, owners
from .documents import Document, Entity, unpack_entity
from .rootcause import ERROR, FAULT, RESPONSE_TIME, root_causes
from .rootcause import shaped as shaped_cause
from .trace import Trace


def service_id(node: NodeKey, account_id: str | None = None) -> dict[str, Any]:
    name, kind = node
    shaped: dict[str, Any] = {"Name": name, "Names": [name], "Type": kind}
    if account_id is not None:
        shaped["AccountId"] = account_id
    return shaped


def annotation_value(value: AnnotationValue) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BooleanValue": value}
    if isinstance(value, float):
        return {"NumberValue": value}
    return {"StringValue": value}


def trace_summary(trace: Trace, matched_event_time: float | None = None) -> dict[str, Any]:
    analysis = trace.analysis()
    detail = trace.detail()
    summary: dict[str, Any] = {
        "Id": analysis.trace_id,
        "StartTime": analysis.start,
        "Duration": round(analysis.duration, 6),
        "HasFault": analysis.has_fault,
        "HasError": analysis.has_error,
        "HasThrottle": analysis.has_throttle,
        "IsPartial": analysis.partial,
        "Http": _http(analysis),
        "Annotations": _annotations(analysis),
        "Users": _grouped(analysis.users, "UserName"),
        "ServiceIds": [service_id(n) for n in analysis.services if n[1] != CLIENT_TYPE],
        "ResourceARNs": [{"ARN": arn} for arn in analysis.resource_arns],
        "InstanceIds": [{"Id": instance} for instance in analysis.instance_ids],
        "AvailabilityZones": [{"Name": zone} for zone in analysis.availability_zones],
        # Only a trace with a fault (an error) somewhere can have a root cause of it.
        "FaultRootCauses": (
            [shaped_cause(c, FAULT) for c in root_causes(detail, FAULT)]
            if analysis.any_fault
            else []
        ),
        "ErrorRootCauses": (
            [shaped_cause(c, ERROR) for c in root_causes(detail, ERROR)]
            if analysis.any_error
            else []
        ),
        "ResponseTimeRootCauses": [
            shaped_cause(c, RESPONSE_TIME) for c in root_causes(detail, RESPONSE_TIME)
        ],
        "Revision": len(trace),
    }
    if analysis.response_time is not None:
        summary["ResponseTime"] = round(analysis.response_time, 6)
    if analysis.entry_point is not None:
        summary["EntryPoint"] = service_id(analysis.entry_point)
    if matched_event_time is not None:
        # botocore: "The matched time stamp of a defined event" (TimeRangeType Event).
        summary["MatchedEventTime"] = matched_event_time
    return summary


def _http(analysis: Analysis) -> dict[str, Any]:
    http = analysis.http
    if http is None:
        return {}
    fields = {
        "HttpURL": http.url,
        "HttpStatus": http.status,
        "HttpMethod": http.method,
        "UserAgent": http.user_agent,
        "ClientIp": http.client_ip,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _annotations(analysis: Analysis) -> dict[str, list[dict[str, Any]]]:
    shaped: dict[str, list[dict[str, Any]]] = {}
    for key, values in analysis.annotation_values:
        by_value: dict[tuple[type, AnnotationValue], dict[NodeKey, None]] = {}
        for value, node in values:
            by_value.setdefault((type(value), value), {})[node] = None
        shaped[key] = [
            {
                "AnnotationValue": annotation_value(value),
                "ServiceIds": [service_id(node) for node in nodes],
            }
            for (_, value), nodes in by_value.items()
        ]
    return shaped


def _grouped(pairs: tuple[tuple[str, NodeKey], ...], field: str) -> list[dict[str, Any]]:
    by_value: dict[str, dict[NodeKey, None]] = {}
    for value, node in pairs:
        by_value.setdefault(value, {})[node] = None
    return [
        {field: value, "ServiceIds": [service_id(node) for node in nodes]}
        for value, nodes in by_value.items()
    ]


def full_trace(trace: Trace) -> dict[str, Any]:
    """BatchGetTraces' Trace: each segment whole, with the subsegments that were sent on
    their own put back in place, plus an inferred segment per untraced downstream call."""
    analysis = trace.analysis()
    documents = trace.documents()
    segments = [document for document in documents if document.is_segment]
    loose = [document for document in documents if not document.is_segment]
    owner = owners([(document.is_segment, document.entities()) for document in documents])
    attach: dict[str, list[Document]] = {}
    orphans: list[Document] = []
    for document in loose:
        segment = owner.get(document.id)
        if segment is None:
            orphans.append(document)
        else:
            attach.setdefault(segment.id, []).append(document)
    shaped = [
        {"Id": document.id, "Document": _assembled(document, attach.get(document.id, []))}
        for document in segments
    ]
    shaped.extend({"Id": d.id, "Document": d.raw.decode()} for d in orphans)
    calls = [(unpack_entity(packed), node) for packed, node in analysis.inferred]
    blocks = _http_blocks(documents, {sub.id for sub, _ in calls if sub.http is not None})
    for sub, node in calls:
        inferred = _inferred(trace.id, sub, node, blocks.get(sub.id))
        shaped.append({"Id": _inferred_id(sub), "Document": json.dumps(inferred)})
    return {
        "Id": trace.id,
        "Duration": round(analysis.duration, 6),
        "LimitExceeded": False,
        "Segments": shaped,
    }


def _assembled(segment: Document, loose: list[Document]) -> str:
    if not loose:
        return segment.raw.decode()
    body = json.loads(segment.raw)
    by_id: dict[str, dict[str, Any]] = {}
    _index(body, by_id)
    pending = [json.loads(document.raw) for document in loose]
    while pending:
        remaining = []
        for sub in pending:
            parent = by_id.get(sub.get("parent_id"))
            if parent is None:
                remaining.append(sub)
            else:
                parent.setdefault("subsegments", []).append(sub)
                _index(sub, by_id)
        if len(remaining) == len(pending):
            break  # below a document that never arrived: left out, as the segment is whole
        pending = remaining
    return json.dumps(body, separators=(",", ":"))


def _index(entity: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
    stack = [entity]
    while stack:
        current = stack.pop()
        by_id[current["id"]] = current
        stack.extend(current.get("subsegments", []))


def _inferred_id(sub: Entity) -> str:
    # A stable id of its own, as X-Ray gives inferred segments.
    return f"{int(sub.id, 16) ^ 0x5A5A5A5A5A5A5A5A:016x}"


def _http_blocks(documents: list[Document], ids: set[str]) -> dict[str, Any]:
    """The `http` block of each of these subsegments, as its document has it."""
    blocks: dict[str, Any] = {}
    if not ids:
        return blocks
    for document in documents:
        if not ids.isdisjoint(packed[0] for packed in document.packed):
            by_id: dict[str, dict[str, Any]] = {}
            _index(json.loads(document.raw), by_id)
            for entity_id in ids & by_id.keys():
                blocks[entity_id] = by_id[entity_id].get("http")
    return blocks


def _inferred(
    trace_id: str, sub: Entity, node: NodeKey, http: dict[str, Any] | None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": _inferred_id(sub),
        "name": sub.name,
        "start_time": sub.start,
        "end_time": sub.end,
        "parent_id": sub.id,
        "inferred": True,
        "trace_id": trace_id,
        "origin": node[1],
    }
    if isinstance(http, dict):
        # The calling subsegment's http block, as the segment-document guide's example of an
        # inferred segment shows it (request and response).
        document["http"] = http
    for flag in ("error", "fault", "throttle"):
        if getattr(sub, flag):
            document[flag] = True
    return document
