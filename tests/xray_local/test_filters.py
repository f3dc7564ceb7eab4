"""Filter expressions: which traces each keyword and operator selects, and clear refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.xray_documents import chain_trace, new_trace_id, segment
from xray_local.filters import FilterError, compile_filter
from xray_local.trace import Trace

from .guide_traces import guide_traces
from .helpers import stored


def slow_user_lookup() -> list[dict[str, Any]]:
    trace_id = new_trace_id()
    return [
        segment(
            "User-Management-Microservice",
            trace_id=trace_id,
            start=10.0,
            end=12.5,
            status=404,
            method="POST",
            url="http://usermgmt/usermgmt/user/nobody",
            annotations={"attempt": 3, "cached": False, "tenant": 'a"b'},
            user="admin1",
        )
    ]


TRACES = {
    "v1": chain_trace(version="V1", start=10.0),
    "v2": chain_trace(version="V2", start=10.0, sql_calls=1),
    "broken": chain_trace(version="V1", start=10.0, notification_status=500),
    "lookup": slow_user_lookup(),
}


@pytest.fixture(scope="module")
def traces() -> dict[str, Trace]:
    return {name: stored(documents) for name, documents in TRACES.items()}


SELECTIONS = [
    ("", {"v1", "v2", "broken", "lookup"}),
    ("ok", {"v1", "v2"}),
    ("!ok", {"broken", "lookup"}),
    ("fault", {"broken"}),
    ("fault = false", {"v1", "v2", "lookup"}),
    ("error", {"lookup"}),
    ("error != true", {"v1", "v2", "broken"}),
    ("throttle", set()),
    ('annotation.app_version = "V2"', {"v2"}),
    ('annotation[app_version] != "V2"', {"v1", "broken"}),
    ("annotation.app_version", {"v1", "v2", "broken"}),
    ("annotation.attempt >= 3", {"lookup"}),
    ("annotation.attempt < 3", set()),
    ("annotation.cached = false", {"lookup"}),
    ('annotation.tenant = "a\\"b"', {"lookup"}),
    ('annotation.app_version BEGINSWITH "V"', {"v1", "v2", "broken"}),
    ('service("V2-Notification-Microservice")', {"v2"}),
    ('service("usermgmt@mysql")', {"v2"}),
    ('service(id(name: "usermgmt@mysql", type: "Database::SQL"))', {"v2"}),
    ('service(id(type: "remote"))', set()),
    ('id(name: "V1-Notification-Microservice")', {"v1", "broken"}),
    ("http.status = 404", {"lookup"}),
    ("http.status >= 500", {"broken"}),  # user management answers 502
    ("http.status = 200", {"v1", "v2"}),
    ("responsetime > 2", {"lookup"}),
    ("duration < 1", {"v1", "v2", "broken"}),
    ('http.method = "POST"', {"lookup"}),
    ('http.url CONTAINS "notification-xray"', {"v1", "v2", "broken"}),
    ('http.url ENDSWITH "/nobody"', {"lookup"}),
    ('http.useragent BEGINSWITH "python-httpx"', {"v1", "v2", "broken", "lookup"}),
    ('http.clientip = "127.0.0.1"', {"v1", "v2", "broken", "lookup"}),
    ('user = "admin1"', {"lookup"}),
    ('annotation.app_version = "V1" AND fault', {"broken"}),
    ('annotation.app_version = "V2" or error', {"v2", "lookup"}),
    ('ok && !(annotation.app_version = "V1")', {"v2"}),
    ('NOT ok || service("V2-Notification-Microservice")', {"v2", "broken", "lookup"}),
    ("fault AND error OR ok", {"v1", "v2"}),  # AND binds tighter than OR
    ("ok !partial duration < 1", {"v1", "v2"}),  # side by side: AND
    ("http.url AND responsetime > 2", {"lookup"}),  # a bare keyword: is it set
    ("!user", {"v1", "v2", "broken"}),
    ('service("V1-Notification-Microservice") { fault }', {"broken"}),
    ("service() { error }", {"lookup"}),
    ('edge("User-Management-Microservice", "V1-Notification-Microservice") { fault }', {"broken"}),
    ('edge("User-Management-Microservice", id(type: "Database::SQL"))', {"v2"}),
    ('rootcause.fault.service { last and name = "V1-Notification-Microservice" }', {"broken"}),
    ("(((((fault)))))", {"broken"}),
]


@pytest.mark.parametrize(
    ("expression", "expected"), SELECTIONS, ids=[s[0] or "empty" for s in SELECTIONS]
)
def test_a_filter_selects_exactly_the_matching_traces(
    traces: dict[str, Trace], expression: str, expected: set[str]
) -> None:
    matches = compile_filter(expression)
    assert {name for name, trace in traces.items() if matches(trace)} == expected


REFUSALS = [
    ("annotation.app_version =", 25, "not the end of the expression"),
    ('http.status = "200"', 15, "must be compared with a number"),
    ("http.url > 3", 10, "takes one of"),
    ("responsetime CONTAINS 2", 14, "takes one of"),
    ("bogus = 1", 1, "unknown keyword 'bogus'"),
    ("fault AND", 10, "expected a keyword"),
    ("(fault", 7, "expected ')'"),
    ('fault "ok"', 7, "expected AND, OR or the end"),
    ('service("a") { annotation.x }', 16, "cannot be used inside service(...)"),
    ("root", 1, "'root' applies only inside service(...) { ... }"),
    ('edge("a") { fault }', 9, "expected ','"),
    ('group.name = "slow"', 1, "groups are not supported here"),
    ("rootcause.responsetime.exception", 1, "no exceptions"),
    ("rootcause.fault", 1, "expected rootcause.fault|error|responsetime"),
    ("(" * 65 + "fault" + ")" * 65, 65, "nest deeper than 64"),
    ("!" * 65 + "fault", 65, "nest deeper than 64"),
    ("service(a)", 9, "quoted service name"),
    ("fault = maybe", 9, "expected true or false"),
    ("annotation.x CONTAINS 3", 14, "does not apply"),
    ("annotation.", 1, "annotation key"),
    ("fault ; ok", 7, "unexpected character ';'"),
    ('http.url = "unterminated', 12, "unexpected character"),
]


@pytest.mark.parametrize(("expression", "column", "phrase"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_an_invalid_filter_says_where_and_why(expression: str, column: int, phrase: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(expression)
    message = str(caught.value)
    assert f"at character {column}:" in message and phrase in message, message


BRACES = [
    'service("api.example.com") { fault }',
    "service() { fault }",
    "service() { error AND !root }",
    'service(id(type: "AWS::Lambda::Function")) { error }',
    "service() { responsetime > 0.5 AND inferred }",
    'service() { name = "DynamoDB" OR type = "remote" }',
    'edge("api.example.com", "backend.example.com") { error }',
    'edge("api.example.com", "backend.example.com") { ok AND duration < 1 }',
    'edge(id(name: "api.example.com"), id(type: "remote")) { ok }',
]
SLOW_TOO = '!(http.method = "NONE")'  # always true, and read only from the documents


@pytest.mark.parametrize("expression", BRACES)
def test_braces_answer_the_same_from_the_analysis_as_from_the_documents(expression: str) -> None:
    traces = [stored(documents) for documents in guide_traces().values()]
    slow = expression.replace(" }", f" AND {SLOW_TOO} }}")
    quick_matches, slow_matches = compile_filter(expression), compile_filter(slow)
    assert [quick_matches(t) for t in traces] == [slow_matches(t) for t in traces]
    assert any(quick_matches(t) for t in traces)
