"""GetTraceSummaries as AWS defines it, one row per rule, each with the AWS text it follows.

Each row puts a few traces into the API (in this process, its clock set by the test) and
asks either which traces a filter or time range selects, or what one summary field says.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from .builders import BASE, Document, call, entity, trace
from .inprocess import InProcessApi

BOTOCORE = "botocore xray 2016-04-12"
GUIDE_SYNTAX = "developer guide, Using filter expressions, Filter expression syntax"
GUIDE_BOOLEAN = "developer guide, Using filter expressions, Boolean keywords"
GUIDE_SEGMENTS = "developer guide, AWS X-Ray segment documents, HTTP request data"


def handled(index: int, downstream: int) -> list[Document]:
    """The user gets a 200; the call behind it failed with `downstream`, and was handled."""
    failing = call("back", 0.1, 0.2, status=downstream)
    return trace(
        index,
        entity("front", 0, 0.5, status=200, url="http://front/users", children=[failing]),
        (failing, entity("back", 0.12, 0.15, status=downstream, url="http://back/")),
    )


def answered(index: int, status: int) -> list[Document]:
    """The user gets `status` from the entry service itself."""
    return trace(index, entity("front", 0, 0.5, status=status, url="http://front/users"))


def after_response(index: int) -> list[Document]:
    """A 201 after 0.5 s, and a mail sent after it, done 7 s after the request began."""
    mail = call("mail", 0.4, 6.6, traced=False)
    return trace(index, entity("front", 0, 0.5, status=201, url="http://front/", children=[mail]))


def in_progress(index: int) -> list[Document]:
    return trace(index, entity("front", 0, None, url="http://front/slow"))


def traced_call(index: int, *, answered: bool, in_request: bool = False) -> list[Document]:
    """A call to a traced service; its segment arrives only if `answered`. With `in_request`
    the flag is where the guide's examples put it, http.request.traced."""
    outgoing = call("back", 0.1, 0.2, status=200, traced=not in_request)
    if in_request:
        outgoing["http"]["request"]["traced"] = True
    root = entity("front", 0, 0.5, status=200, url="http://front/", children=[outgoing])
    if not answered:
        return trace(index, root)
    return trace(index, root, (outgoing, entity("back", 0.12, 0.1, status=200)))


def untraced_call(index: int) -> list[Document]:
    outgoing = call("smtp", 0.1, 0.2, traced=False)
    return trace(index, entity("front", 0, 0.5, status=200, children=[outgoing]))


@dataclass
class Rule:
    name: str
    source: str  # where AWS says so
    traces: Mapping[str, Callable[[int], list[Document]]]
    expected: Any  # the names selected, or {name: field value}
    filter: str = ""
    field: str | None = None  # a summary field to read, instead of which are selected
    query: dict[str, Any] = dataclasses.field(default_factory=dict)


FLAG_RULES = [
    Rule(
        "HasError is the root segment's",
        f"{BOTOCORE} TraceSummary.HasError: 'The root segment document has a 400 series error.'",
        {"handled 404": lambda i: handled(i, 404), "root 404": lambda i: answered(i, 404)},
        {"handled 404": False, "root 404": True},
        field="HasError",
    ),
    Rule(
        "HasFault is the root segment's",
        f"{BOTOCORE} TraceSummary.HasFault: 'The root segment document has a 500 series error.'",
        {"handled 500": lambda i: handled(i, 500), "root 502": lambda i: answered(i, 502)},
        {"handled 500": False, "root 502": True},
        field="HasFault",
    ),
    Rule(
        "HasThrottle is any segment's",
        f"{BOTOCORE} TraceSummary.HasThrottle: 'One or more of the segment documents has a "
        "429 throttling error.'",
        {
            "handled 429": lambda i: handled(i, 429),
            "root 429": lambda i: answered(i, 429),
            "handled 404": lambda i: handled(i, 404),
        },
        {"handled 429": True, "root 429": True, "handled 404": False},
        field="HasThrottle",
    ),
    Rule(
        "error finds what the user got, not a handled downstream error",
        f"{GUIDE_SYNTAX}: 'If an error occurs downstream, but is handled by your application "
        "and not returned to the user, a search for error will not find it.'",
        {
            "handled 404": lambda i: handled(i, 404),
            "handled 429": lambda i: handled(i, 429),
            "root 404": lambda i: answered(i, 404),
            "root 429": lambda i: answered(i, 429),
        },
        {"root 404", "root 429"},
        filter="error",
    ),
    Rule(
        "throttle finds a 429 the user got, not a handled one",
        f"{GUIDE_BOOLEAN}: 'throttle – Response status code was 429 Too Many Requests'; "
        f"{GUIDE_SYNTAX}: simple keywords 'find issues only at the trace level'",
        {"handled 429": lambda i: handled(i, 429), "root 429": lambda i: answered(i, 429)},
        {"root 429"},
        filter="throttle",
    ),
    Rule(
        "fault finds a 5XX the user got, not a handled one",
        f"{GUIDE_BOOLEAN}: 'fault – Response status code was 5XX Server Error'",
        {"handled 500": lambda i: handled(i, 500), "root 502": lambda i: answered(i, 502)},
        {"root 502"},
        filter="fault",
    ),
    Rule(
        "ok is the user's 2XX, whatever was handled below it",
        f"{GUIDE_BOOLEAN}: 'ok – Response status code was 2XX Success'",
        {
            "handled 500": lambda i: handled(i, 500),
            "root 404": lambda i: answered(i, 404),
            "root 200": lambda i: answered(i, 200),
        },
        {"handled 500", "root 200"},
        filter="ok",
    ),
]
TIME_RULES = [
    Rule(
        "Duration runs to the last segment to complete, an inferred one included",
        f"{BOTOCORE} TraceSummary.Duration: 'between the start time of the earliest segment "
        "that started and the end time of the last segment that completed'",
        {"mail after the response": after_response},
        {"mail after the response": 7.0},
        field="Duration",
    ),
    Rule(
        "ResponseTime is the root segment's",
        f"{BOTOCORE} TraceSummary.ResponseTime: 'the response time measures the time before "
        "the response is sent to the user, while the duration measures the amount of time "
        "before the last traced activity completes'",
        {"mail after the response": after_response},
        {"mail after the response": 0.5},
        field="ResponseTime",
    ),
    Rule(
        "duration > N finds work that ends after the response",
        f"{GUIDE_BOOLEAN.replace('Boolean', 'Number')}: 'duration – Total request duration, "
        "including all downstream calls'",
        {"mail after the response": after_response, "quick": lambda i: answered(i, 200)},
        {"mail after the response"},
        filter="duration > 5 AND responsetime < 1",
    ),
]
PARTIAL_RULES = [
    Rule(
        "a segment in progress makes the trace partial",
        f"{BOTOCORE} TraceSummary.IsPartial: 'One or more of the segment documents is in "
        f"progress'; {GUIDE_BOOLEAN}: 'partial – Request has incomplete segments'",
        {"in progress": in_progress, "complete": lambda i: answered(i, 200)},
        {"in progress": True, "complete": False},
        field="IsPartial",
    ),
    Rule(
        "a traced call whose callee sent no segment makes the trace partial",
        f"{GUIDE_SEGMENTS}: 'traced ... If this field is set to true, X-Ray considers the "
        "trace to be broken until the downstream service uploads a segment with a parent_id "
        "that matches the id of the subsegment that contains this block'",
        {
            "unanswered": lambda i: traced_call(i, answered=False),
            "answered": lambda i: traced_call(i, answered=True),
            "untraced callee": untraced_call,
        },
        {"unanswered"},
        filter="partial",
    ),
    Rule(
        "http.request.traced counts as traced",
        f"{GUIDE_SEGMENTS}: the examples put 'traced': true in http.request",
        {
            "unanswered": lambda i: traced_call(i, answered=False, in_request=True),
            "answered": lambda i: traced_call(i, answered=True, in_request=True),
        },
        {"unanswered": True, "answered": False},
        field="IsPartial",
    ),
]


def late_upload(index: int) -> list[Document]:
    """Began and ended an hour ago; uploaded now (arrives at BASE)."""
    return trace(index, entity("front", -3600, 10, status=200), at=BASE - 3600)


def long_running(index: int) -> list[Document]:
    """Began an hour ago, ended 5 s ago (when it arrived: BASE - 5)."""
    return trace(index, entity("front", -3600, 3595, status=200), at=BASE - 3600)


def recent(index: int) -> list[Document]:
    """Began 2 s ago, ended 1 s ago, arrives 30 s from now."""
    return trace(index, entity("front", -2, 1, status=200), at=BASE - 2)


ARRIVALS = {"late upload": BASE, "long running": BASE - 5, "recent": BASE + 30}
RANGE_TRACES = {"late upload": late_upload, "long running": long_running, "recent": recent}
RANGE_RULES = [
    Rule(
        f"TimeRangeType {kind} selects by {what}",
        f"{BOTOCORE} GetTraceSummariesRequest.TimeRangeType: 'Query trace summaries by "
        "TraceId (trace start time), Event (trace update time), or Service (trace segment "
        "end time)'",
        RANGE_TRACES,
        expected,
        query={"TimeRangeType": kind},
    )
    for kind, what, expected in [
        ("TraceId", "the time in the trace id", {"recent"}),
        ("Event", "when the trace was last updated", {"late upload", "long running"}),
        ("Service", "when a segment ended", {"long running", "recent"}),
    ]
]
RULES = FLAG_RULES + TIME_RULES + PARTIAL_RULES + RANGE_RULES


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_trace_summaries_follow_aws(rule: Rule) -> None:
    api = InProcessApi(now=BASE)
    names = {}
    for index, (name, build) in enumerate(rule.traces.items(), start=1):
        documents = build(index)
        api.clock.now = ARRIVALS.get(name, BASE)
        api.put(documents)
        names[documents[0]["trace_id"]] = name
    api.clock.now = BASE
    found = api.summaries(
        StartTime=BASE - 10,
        EndTime=BASE + 10,
        FilterExpression=rule.filter,
        **rule.query,
    )
    if rule.field is None:
        assert {names[summary["Id"]] for summary in found} == rule.expected, rule.source
    else:
        values = {names[summary["Id"]]: summary.get(rule.field) for summary in found}
        assert values == pytest.approx(rule.expected), rule.source


def test_an_event_range_summary_says_when_the_trace_was_updated() -> None:
    api = InProcessApi(now=BASE + 3)
    api.put(answered(1, 200))
    [summary] = api.summaries(StartTime=BASE - 10, EndTime=BASE + 10, TimeRangeType="Event")
    # botocore TraceSummary.MatchedEventTime: 'The matched time stamp of a defined event.'
    assert summary["MatchedEventTime"] == BASE + 3


def test_an_inferred_segment_carries_the_calling_subsegments_http_block() -> None:
    # The segment-document guide's example of an inferred segment has the call's request
    # and response; X-Ray builds it from the calling subsegment.
    outgoing = call("smtp", 0.1, 0.2, traced=False, status=200)
    outgoing["http"]["response"]["content_length"] = 861
    api = InProcessApi(now=BASE)
    documents = trace(1, entity("front", 0, 0.5, status=200, children=[outgoing]))
    api.put(documents)
    answer = api.call("/Traces", {"TraceIds": [documents[0]["trace_id"]]}).json()
    [inferred] = [
        json.loads(s["Document"])
        for s in answer["Traces"][0]["Segments"]
        if json.loads(s["Document"]).get("inferred")
    ]
    assert inferred["parent_id"] == outgoing["id"]
    assert inferred["http"] == outgoing["http"]
