"""X-Ray's graph rules applied to one trace: which calls it contributes, and its summary."""

from __future__ import annotations

import pytest

from tests.support.xray_documents import (
    USERMGMT,
    chain_trace,
    http_call,
    independent,
    new_id,
    new_trace_id,
    notification_name,
    segment,
)
from xray_local.analysis import ERROR, FAULT, OK, THROTTLE, Analysis
from xray_local.documents import unpack_entity

from .helpers import analysed

CLIENT = (USERMGMT, "client")
USERS = (USERMGMT, "service")
V1 = (notification_name("V1"), "service")
DATABASE = ("usermgmt@mysql", "Database::SQL")


def edges(analysis: Analysis) -> list[tuple[tuple[str, str], tuple[str, str], int]]:
    return [(edge.source, edge.target, edge.outcome) for edge in analysis.edge_samples()]


CHAIN_EDGES = [
    pytest.param(CLIENT, USERS, id="client->usermgmt"),
    pytest.param(USERS, V1, id="usermgmt->notification-v1"),
    pytest.param(USERS, DATABASE, id="usermgmt->database"),
]


@pytest.mark.parametrize(("source", "target"), CHAIN_EDGES)
def test_the_call_chain_links_each_caller_directly_to_its_callee(
    source: tuple[str, str], target: tuple[str, str]
) -> None:
    analysis = analysed(chain_trace(sql_calls=1))
    assert (source, target, OK) in edges(analysis)


def test_the_call_chain_has_exactly_its_edges_and_nodes() -> None:
    analysis = analysed(chain_trace(sql_calls=2))
    assert sorted(edges(analysis)) == sorted(
        [(CLIENT, USERS, OK), (USERS, V1, OK), (USERS, DATABASE, OK), (USERS, DATABASE, OK)]
    )
    nodes = [(sample.node, sample.root, sample.active) for sample in analysis.node_samples()]
    assert sorted(nodes) == sorted(
        [(USERS, True, True), (V1, False, True), (DATABASE, False, False), (DATABASE, False, False)]
    )


def test_an_edge_reports_the_callers_view_of_the_call() -> None:
    caller, callee = chain_trace()
    call = caller["subsegments"][-1]
    analysis = analysed([caller, callee])
    edge = next(e for e in analysis.edge_samples() if e.target == V1)
    assert edge.response_time == pytest.approx(call["end_time"] - call["start_time"])
    node = next(n for n in analysis.node_samples() if n.node == V1)
    assert node.response_time == pytest.approx(callee["end_time"] - callee["start_time"])


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, OK), (404, ERROR), (429, THROTTLE), (500, FAULT), (503, FAULT)],
    ids=["ok", "error", "throttle", "fault", "unavailable"],
)
def test_calls_are_classified_like_x_ray(status: int, expected: int) -> None:
    analysis = analysed(chain_trace(notification_status=status))
    assert next(e.outcome for e in analysis.edge_samples() if e.target == V1) == expected
    # The trace's flags are the root's (user management answers 502 on any failure), but
    # for HasThrottle, which is any segment's.
    assert not analysis.has_error
    assert analysis.has_throttle == (expected == THROTTLE)
    assert analysis.has_fault == (expected != OK)


def test_the_status_code_classifies_when_the_sdk_flags_are_missing() -> None:
    trace_id = new_trace_id()
    document = segment("svc", trace_id=trace_id, start=1.0, end=2.0, status=500)
    document.pop("fault")
    assert analysed([document]).node_samples()[0].outcome == FAULT


def test_a_remote_call_with_no_downstream_segment_is_an_inferred_node() -> None:
    caller, _ = chain_trace()  # the notification segment never arrives
    analysis = analysed([caller])
    assert (USERS, ("notification", "remote"), OK) in edges(analysis)
    assert [unpack_entity(sub).name for sub, _ in analysis.inferred] == ["notification"]


def test_the_inferred_node_goes_once_the_callee_segment_arrives() -> None:
    caller, callee = chain_trace()
    analysis = analysed([caller, callee])
    assert ("notification", "remote") not in analysis.services
    assert analysis.inferred == ()


def test_an_aws_call_is_typed_after_the_service() -> None:
    trace_id = new_trace_id()
    call = {
        "id": "c" * 16,
        "name": "DynamoDB",
        "start_time": 1.1,
        "end_time": 1.2,
        "namespace": "aws",
    }
    analysis = analysed([segment("svc", trace_id=trace_id, start=1.0, end=2.0, subsegments=[call])])
    assert ("DynamoDB", "AWS::DynamoDB") in analysis.services


def test_independent_subsegments_count_as_if_nested() -> None:
    caller, callee = chain_trace(sql_calls=2)
    subsegments = caller.pop("subsegments")
    loose = [independent(sub, caller) for sub in subsegments]
    split = analysed([caller, *loose, callee])
    whole = analysed(chain_trace(sql_calls=2))
    assert sorted((e.source, e.target) for e in split.edge_samples()) == sorted(
        (e.source, e.target) for e in whole.edge_samples()
    )
    assert not split.partial


def test_a_subsegment_below_a_missing_document_makes_the_trace_partial() -> None:
    caller, _ = chain_trace()
    lost_parent = {**caller, "id": "f" * 16}
    orphan = independent({**caller["subsegments"][0], "id": new_id()}, lost_parent)
    analysis = analysed([caller, orphan])
    assert analysis.partial


def test_an_in_progress_segment_is_shown_but_not_counted() -> None:
    trace_id = new_trace_id()
    analysis = analysed([segment("svc", trace_id=trace_id, start=1.0, end=None)])
    assert analysis.partial and analysis.nodes == () and ("svc", "service") in analysis.services


def test_the_summary_facts_come_from_the_root_segment() -> None:
    caller, callee = chain_trace(version="V2", start=1000.0)
    caller["user"] = "admin1"
    analysis = analysed([callee, caller])
    assert analysis.entry_point == USERS
    assert analysis.http and analysis.http.url == "http://usermgmt:8095/usermgmt/notification-xray"
    assert analysis.start == 1000.0
    assert analysis.response_time == pytest.approx(caller["end_time"] - caller["start_time"])
    assert analysis.annotations == {"app_version": (("V2", (notification_name("V2"), "service")),)}
    assert analysis.users == (("admin1", USERS),)


def test_a_traced_call_to_an_uninstrumented_host_stays_inferred() -> None:
    trace_id = new_trace_id()
    call = http_call("example.org", trace_id=trace_id, start=1.1, end=1.2, status=503)
    analysis = analysed([segment("svc", trace_id=trace_id, start=1.0, end=2.0, subsegments=[call])])
    assert (("svc", "service"), ("example.org", "remote"), FAULT) in edges(analysis)
