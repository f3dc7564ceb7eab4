"""The X-Ray API through boto3, unchanged, and bad requests answered in the API's error shape."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.service_graph import callees
from tests.support.xray_documents import (
    USERMGMT,
    chain_trace,
    independent,
    new_trace_id,
    notification_name,
    segment,
)
from tests.support.xray_local import LocalXRay


def put(xray: LocalXRay, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = xray.client().put_trace_segments(
        TraceSegmentDocuments=[json.dumps(document) for document in documents]
    )
    unprocessed: list[dict[str, Any]] = answer["UnprocessedTraceSegments"]
    return unprocessed


def test_put_trace_segments_stores_good_documents_and_returns_the_bad(xray: LocalXRay) -> None:
    good = chain_trace()
    nameless = segment("x", trace_id=new_trace_id(), start=1.0, end=2.0)
    del nameless["name"]
    client = xray.client()
    answer = client.put_trace_segments(
        TraceSegmentDocuments=[
            *(json.dumps(document) for document in good),
            json.dumps(nameless),
            "{not json",
            json.dumps({**good[0], "annotations": {"pad": "x" * 70_000}}),
        ]
    )
    unprocessed = answer["UnprocessedTraceSegments"]
    assert [(u.get("Id"), u["ErrorCode"]) for u in unprocessed] == [
        (nameless["id"], "invalid_segment"),
        (None, "bad_json"),
        (None, "oversized"),
    ]
    assert "name must be a string" in unprocessed[0]["Message"]
    stored = client.batch_get_traces(TraceIds=[good[0]["trace_id"]])["Traces"]
    assert len(stored) == 1 and len(stored[0]["Segments"]) == 2
    assert xray.stats()["intake"]["rejected"] == {
        "invalid_segment": 1,
        "bad_json": 1,
        "oversized": 1,
    }


def test_the_service_graph_has_x_rays_shape(xray: LocalXRay) -> None:
    now = time.time()
    assert put(xray, [d for i in range(3) for d in chain_trace(start=now + i, sql_calls=1)]) == []
    answer = xray.client().get_service_graph(StartTime=now - 10, EndTime=now + 10)
    assert answer["StartTime"].timestamp() == pytest.approx(now - 10)
    assert answer["ContainsOldGroupVersions"] is False
    services = {(s["Name"], s["Type"]): s for s in answer["Services"]}
    users = services[(USERMGMT, "service")]
    assert users["StartTime"].timestamp() == int(now)
    assert users["SummaryStatistics"]["TotalCount"] == 3
    assert callees(answer["Services"], (USERMGMT, "service")) == {
        notification_name("V1"),
        "usermgmt@mysql",
    }
    assert xray.client().get_service_graph(StartTime=now - 100, EndTime=now - 50)["Services"] == []


def test_trace_summaries_page_through_every_trace_newest_first(xray: LocalXRay) -> None:
    now = time.time()
    traces = [chain_trace(start=now - index * 0.01) for index in range(250)]
    assert put(xray, [document for trace in traces for document in trace]) == []
    pages = list(
        xray.client()
        .get_paginator("get_trace_summaries")
        .paginate(StartTime=now - 60, EndTime=now + 60)
    )
    assert len(pages) == 3
    ids = [summary["Id"] for page in pages for summary in page["TraceSummaries"]]
    assert ids == [trace[0]["trace_id"] for trace in traces]
    assert pages[0]["TracesProcessedCount"] == 250


def test_the_time_range_type_chooses_trace_id_time_or_event_time(xray: LocalXRay) -> None:
    now = time.time()
    # A trace whose id says it began an hour ago, with events now (a long-running request).
    old_id = new_trace_id(now - 3600)
    assert put(xray, chain_trace(start=now, trace_id=old_id)) == []
    client = xray.client()

    def found(kind: str) -> list[str]:
        answer = client.get_trace_summaries(
            StartTime=now - 10, EndTime=now + 10, TimeRangeType=kind
        )
        return [s["Id"] for s in answer["TraceSummaries"]]

    assert found("TraceId") == []
    assert found("Event") == [old_id] == found("Service")


def test_batch_get_traces_puts_separately_sent_subsegments_back(xray: LocalXRay) -> None:
    caller, callee = chain_trace(sql_calls=1)
    subsegments = caller.pop("subsegments")
    assert put(xray, [caller, callee, *(independent(sub, caller) for sub in subsegments)]) == []
    unknown = new_trace_id()
    answer = xray.client().batch_get_traces(TraceIds=[caller["trace_id"], unknown])
    assert answer["UnprocessedTraceIds"] == [unknown]
    [trace] = answer["Traces"]
    documents = {s["Id"]: json.loads(s["Document"]) for s in trace["Segments"]}
    inferred = [d for d in documents.values() if d.get("inferred")]
    assert {i for i, d in documents.items() if not d.get("inferred")} == {
        caller["id"],
        callee["id"],
    }
    # The SQL call reached nothing traced: X-Ray adds an inferred segment below it.
    assert [(d["parent_id"], d["origin"]) for d in inferred] == [
        (subsegments[0]["id"], "Database::SQL")
    ]
    assert [sub["id"] for sub in documents[caller["id"]]["subsegments"]] == [
        s["id"] for s in subsegments
    ]
    assert trace["Duration"] == pytest.approx(caller["end_time"] - caller["start_time"], abs=1e-6)


def test_the_trace_graph_covers_only_the_traces_asked_for(xray: LocalXRay) -> None:
    v1, v2 = chain_trace(version="V1"), chain_trace(version="V2")
    assert put(xray, v1 + v2) == []
    services = xray.client().get_trace_graph(TraceIds=[v2[0]["trace_id"]])["Services"]
    assert {s["Name"] for s in services} == {USERMGMT, notification_name("V2")}


def test_a_bad_filter_is_a_client_error_saying_where(xray: LocalXRay) -> None:
    with pytest.raises(ClientError) as caught:
        xray.client().get_trace_summaries(
            StartTime=time.time() - 60, EndTime=time.time(), FilterExpression="responsetime >"
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidRequestException"
    assert error["Message"].startswith("invalid filter expression at character 15:")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


INVALID = "InvalidRequestException"


def token(position: str) -> str:
    """A NextToken as this server writes them (URL-safe base64 of JSON), holding `position`."""
    return base64.urlsafe_b64encode(position.encode()).decode()


CRAFTED_TOKENS = {
    "token-of-lists": token("[[1], [2]]"),
    "token-of-words": token('["soon", "x"]'),
    "token-nested-deep": token("[" * 100_000 + "]" * 100_000),
    "token-huge-number": token(f'[{"9" * 400}, "1-abc"]'),
    "token-long": "A" * 100_000,
    "token-not-ascii": "été",
}
SERIALIZATION = "SerializationException"
STATISTICS = {"RuleName": "Default", "Timestamp": 1, "RequestCount": 1, "SampledCount": 0}


def bad(
    name: str, path: str, body: Any, status: int, kind: str, phrase: str, method: str = "POST"
) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return pytest.param(method, path, content, status, kind, phrase, id=name)


BAD_REQUESTS = [
    bad("unknown-operation", "/NoSuchOperation", {}, 404, "UnknownOperationException", "no X-Ray"),
    bad("wrong-method", "/TraceSummaries", b"", 405, "MethodNotAllowedException", "is POST", "GET"),
    bad("not-json", "/TraceSummaries", b"{oops", 400, SERIALIZATION, "not valid JSON"),
    bad("not-object", "/TraceSummaries", [], 400, SERIALIZATION, "JSON object"),
    bad("no-start", "/TraceSummaries", {"EndTime": 2}, 400, INVALID, "StartTime is required"),
    bad("backwards", "/TraceSummaries", {"StartTime": 5, "EndTime": 2}, 400, INVALID, "later"),
    bad("bad-time", "/ServiceGraph", {"StartTime": "x", "EndTime": 2}, 400, INVALID, "timestamp"),
    bad(
        "bad-range-type",
        "/TraceSummaries",
        {"StartTime": 1, "EndTime": 2, "TimeRangeType": "Soon"},
        400,
        INVALID,
        "TimeRangeType must be one of",
    ),
    bad(
        "bad-token",
        "/TraceSummaries",
        {"StartTime": 1, "EndTime": 2, "NextToken": "abc"},
        400,
        INVALID,
        "NextToken",
    ),
    *(
        bad(
            name,
            "/TraceSummaries",
            {"StartTime": 1, "EndTime": 2, "NextToken": value},
            400,
            INVALID,
            "NextToken is not one this server gave out",
        )
        for name, value in CRAFTED_TOKENS.items()
    ),
    bad(
        "filter-nested-5000-deep",
        "/TraceSummaries",
        {"StartTime": 1, "EndTime": 2, "FilterExpression": "(" * 5000 + "ok" + ")" * 5000},
        400,
        INVALID,
        "nest deeper than 64 levels",
    ),
    bad(
        "filter-negated-5000-times",
        "/TraceSummaries",
        {"StartTime": 1, "EndTime": 2, "FilterExpression": "!" * 5000 + "ok"},
        400,
        INVALID,
        "nest deeper than 64 levels",
    ),
    bad(
        "filter-json-nested-deep",
        "/TraceSummaries",
        {"StartTime": 1, "EndTime": 2, "FilterExpression": "rootcause.json = #" + "[" * 50_000},
        400,
        INVALID,
        "JSON list of root causes",
    ),
    bad("ids-not-list", "/Traces", {"TraceIds": "1-abc"}, 400, INVALID, "list of strings"),
    bad("too-many-ids", "/Traces", {"TraceIds": ["x"] * 101}, 400, INVALID, "at most 100"),
    bad(
        "unknown-group",
        "/ServiceGraph",
        {"StartTime": 1, "EndTime": 2, "GroupName": "mine"},
        400,
        INVALID,
        "Default group",
    ),
    bad(
        "bad-client-id",
        "/SamplingTargets",
        {"SamplingStatisticsDocuments": [{**STATISTICS, "ClientID": "short"}]},
        400,
        INVALID,
        "ClientID",
    ),
    bad(
        "segments-not-text", "/TraceSegments", {"TraceSegmentDocuments": [1]}, 400, INVALID, "list"
    ),
    bad(
        "too-large",
        "/TraceSegments",
        b"{" + b" " * (9 * 1024 * 1024) + b"}",
        413,
        "RequestEntityTooLargeException",
        "limited to",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "kind", "phrase"), BAD_REQUESTS)
def test_bad_requests_get_the_api_error_shape_and_are_counted(
    xray: LocalXRay, method: str, path: str, body: bytes, status: int, kind: str, phrase: str
) -> None:
    response = httpx.request(method, f"{xray.base_url}{path}", content=body, timeout=30)
    assert response.status_code == status
    assert response.headers["x-amzn-ErrorType"] == kind
    assert response.json()["__type"] == kind and phrase in response.json()["message"]
    assert xray.stats()["api"]["errors"] == {kind: 1}
    assert httpx.get(f"{xray.base_url}/health").status_code == 200
    # ... and it still does its work.
    assert put(xray, chain_trace()) == []


def test_the_sampling_rules_are_what_the_sdk_expects(xray: LocalXRay) -> None:
    [record] = xray.client().get_sampling_rules()["SamplingRuleRecords"]
    rule = record["SamplingRule"]
    assert (rule["RuleName"], rule["FixedRate"], rule["Priority"]) == ("Default", 1.0, 10000)
    assert (rule["Version"], rule["ResourceARN"], rule["ServiceType"], rule["Attributes"]) == (
        1,
        "*",
        "*",
        {},
    )
    targets = xray.client().get_sampling_targets(
        SamplingStatisticsDocuments=[
            {
                "RuleName": "Default",
                "ClientID": "c" * 24,
                "Timestamp": time.time(),
                "RequestCount": 4,
                "SampledCount": 4,
                "BorrowCount": 0,
            }
        ]
    )
    [target] = targets["SamplingTargetDocuments"]
    assert (target["RuleName"], target["FixedRate"], target["ReservoirQuota"]) == (
        "Default",
        1.0,
        1,
    )
    assert targets["UnprocessedStatistics"] == []
