"""Service graph statistics in GetServiceGraph's shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.service_graph import edge_between, nodes_by_key
from tests.support.xray_documents import USERMGMT, chain_trace, notification_name
from xray_local.graph import Graph, graph_of, histogram_value

from .helpers import analysed


@pytest.fixture
def services() -> list[dict[str, Any]]:
    traces = [chain_trace(start=1000.0 + i, sql_calls=2) for i in range(3)]
    traces.append(chain_trace(start=1010.0, notification_status=500))
    return graph_of(analysed(trace) for trace in traces).services()


def test_nodes_are_typed_rooted_and_stated_as_x_ray_does(services: list[dict[str, Any]]) -> None:
    nodes = nodes_by_key(services)
    assert set(nodes) == {
        (USERMGMT, "client"),
        (USERMGMT, "service"),
        (notification_name("V1"), "service"),
        ("usermgmt@mysql", "Database::SQL"),
    }
    client = nodes[(USERMGMT, "client")]
    assert client["State"] == "unknown" and "SummaryStatistics" not in client
    assert services[0] is client  # clients come first
    users = nodes[(USERMGMT, "service")]
    assert users["Root"] is True and users["State"] == "active"
    database = nodes[("usermgmt@mysql", "Database::SQL")]
    assert database["State"] == "unknown" and "Root" not in database and database["Edges"] == []
    assert [s["ReferenceId"] for s in services] == list(range(len(services)))


def test_edge_counts_split_ok_error_and_fault(services: list[dict[str, Any]]) -> None:
    to_v1 = edge_between(services, (USERMGMT, "service"), (notification_name("V1"), "service"))
    statistics = to_v1["SummaryStatistics"]
    assert statistics["TotalCount"] == 4 and statistics["OkCount"] == 3
    assert statistics["FaultStatistics"] == {"OtherCount": 1, "TotalCount": 1}
    assert statistics["ErrorStatistics"] == {"ThrottleCount": 0, "OtherCount": 0, "TotalCount": 0}
    assert statistics["TotalResponseTime"] == pytest.approx(4 * 0.010)
    assert sum(entry["Count"] for entry in to_v1["ResponseTimeHistogram"]) == 4
    assert to_v1["StartTime"] == 1000.0 and to_v1["EndTime"] == 1011.0
    to_database = edge_between(services, (USERMGMT, "service"), ("usermgmt@mysql", "Database::SQL"))
    assert to_database["SummaryStatistics"]["TotalCount"] == 6


def test_the_client_edge_counts_every_request_that_entered(services: list[dict[str, Any]]) -> None:
    entered = edge_between(services, (USERMGMT, "client"), (USERMGMT, "service"))
    assert entered["SummaryStatistics"]["TotalCount"] == 4
    assert entered["SummaryStatistics"]["FaultStatistics"]["TotalCount"] == 1  # the 502


def test_removing_what_was_added_leaves_nothing() -> None:
    graph = Graph()
    analyses = [analysed(chain_trace(start=1000.0 + i, sql_calls=1)) for i in range(5)]
    for analysis in analyses:
        graph.add(analysis)
    for analysis in analyses:
        graph.add(analysis, -1)
    assert graph.nodes == {} and graph.edges == {}


@pytest.mark.parametrize(
    ("seconds", "value"),
    [
        (0.0, 0.0),
        (0.0004, 0.001),
        (0.0123, 0.012),
        (0.15749, 0.157),
        (1.2345, 1.23),
        (123.4, 123.0),
    ],
)
def test_histogram_values_keep_three_significant_digits_at_most_to_the_millisecond(
    seconds: float, value: float
) -> None:
    assert histogram_value(seconds) == pytest.approx(value)
