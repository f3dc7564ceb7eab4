"""The services on loopback, through the local daemon: the map and traces boto3 gets back.

client -> User-Management-Microservice -> V1-Notification-Microservice (and V2 through the
second instance), user management -> MariaDB, notification -> SMTP.
"""

from __future__ import annotations

import time

import pytest

from tests.support.service_graph import edge_between, nodes_by_key
from tests.support.xray_documents import USERMGMT, notification_name

from .scenario import CALLS_TO_V1, CALLS_TO_V2, SDK_POLLING_ERROR, Scenario

V1 = (notification_name("V1"), "service")
V2 = (notification_name("V2"), "service")
USERS = (USERMGMT, "service")
CLIENT = (USERMGMT, "client")


def sql_statements(scenario: Scenario) -> int:
    """SQL subsegments in the stored documents of POST /usermgmt/user."""
    count = 0
    stack = list(scenario.documents(scenario.user_trace))
    while stack:
        entity = stack.pop()
        count += (
            "sql" in entity and "subsegments" not in entity and entity.get("namespace") == "remote"
        )
        stack.extend(entity.get("subsegments", []))
    return count


def expected_edges(scenario: Scenario) -> list[tuple[tuple[str, str], tuple[str, str], int]]:
    """(caller, callee, requests) for every edge the scenario's requests make."""
    database = (scenario.database_node, "Database::SQL")
    smtp = (scenario.smtp_host, "remote")
    return [
        (CLIENT, USERS, CALLS_TO_V1 + CALLS_TO_V2 + 1),
        (USERS, V1, CALLS_TO_V1 + 1),  # + the email POST /user asks for
        (USERS, V2, CALLS_TO_V2),
        (USERS, database, sql_statements(scenario)),
        (V1, smtp, 1),
    ]


EDGE_IDS = [
    "client->usermgmt",
    "usermgmt->notification-v1",
    "usermgmt->notification-v2",
    "usermgmt->mysql",
    "notification-v1->smtp",
]


@pytest.mark.parametrize("index", range(len(EDGE_IDS)), ids=EDGE_IDS)
def test_each_call_is_a_direct_edge_with_its_exact_count(scenario: Scenario, index: int) -> None:
    source, target, requests = expected_edges(scenario)[index]
    statistics = edge_between(scenario.graph(), source, target)["SummaryStatistics"]
    assert statistics["TotalCount"] == requests > 0
    assert statistics["OkCount"] == requests
    assert (
        statistics["ErrorStatistics"]["TotalCount"]
        == statistics["FaultStatistics"]["TotalCount"]
        == 0
    )
    assert statistics["TotalResponseTime"] > 0


def test_the_map_has_exactly_the_scenarios_nodes(scenario: Scenario) -> None:
    services = scenario.graph()
    by_key = nodes_by_key(services)
    assert set(by_key) == {
        CLIENT,
        USERS,
        V1,
        V2,
        (scenario.database_node, "Database::SQL"),
        (scenario.smtp_host, "remote"),
    }
    edges = {(s["Name"], s["Type"], e["ReferenceId"]) for s in services for e in s["Edges"]}
    assert len(edges) == len(EDGE_IDS)  # nothing more than the expected edges
    assert by_key[USERS]["Root"] is True and by_key[USERS]["State"] == "active"
    assert by_key[USERS]["SummaryStatistics"]["TotalCount"] == CALLS_TO_V1 + CALLS_TO_V2 + 1
    assert by_key[V1]["SummaryStatistics"]["TotalCount"] == CALLS_TO_V1 + 1
    assert by_key[V2]["SummaryStatistics"]["TotalCount"] == CALLS_TO_V2
    assert by_key[(scenario.database_node, "Database::SQL")]["State"] == "unknown"


def summaries(scenario: Scenario, expression: str) -> set[str]:
    pages = (
        scenario.xray.client()
        .get_paginator("get_trace_summaries")
        .paginate(StartTime=scenario.start, EndTime=time.time() + 1, FilterExpression=expression)
    )
    return {summary["Id"] for page in pages for summary in page["TraceSummaries"]}


def test_the_v2_annotation_finds_exactly_the_v2_traces(scenario: Scenario) -> None:
    assert summaries(scenario, 'annotation.app_version = "V2"') == set(scenario.v2_traces)
    assert summaries(scenario, 'annotation.app_version = "V1"') == {
        *scenario.v1_traces,
        scenario.user_trace,
    }


def test_filters_on_services_and_requests_find_the_scenarios_traces(scenario: Scenario) -> None:
    assert summaries(scenario, f'service("{scenario.database_node}")') == {scenario.user_trace}
    assert summaries(scenario, 'http.method = "POST" AND http.status = 201') == {
        scenario.user_trace
    }
    assert summaries(scenario, "") == set(scenario.trace_ids)
    assert summaries(scenario, "fault OR error") == set()


def test_a_trace_comes_back_whole_with_its_summary(scenario: Scenario) -> None:
    client = scenario.xray.client()
    [summary] = client.get_trace_summaries(
        StartTime=scenario.start,
        EndTime=time.time() + 1,
        FilterExpression=f'service("{scenario.database_node}")',
    )["TraceSummaries"]
    assert summary["Http"]["HttpMethod"] == "POST" and summary["Http"]["HttpStatus"] == 201
    assert summary["EntryPoint"]["Name"] == USERMGMT and not summary["IsPartial"]
    documents = scenario.documents(scenario.user_trace)
    assert {d["name"] for d in documents if not d.get("inferred")} == {USERMGMT, V1[0]}
    # X-Ray adds an inferred segment for each call to something untraced.
    inferred = [d for d in documents if d.get("inferred")]
    assert {(d["name"], d["origin"]) for d in inferred} == {
        (scenario.database_node, "Database::SQL"),
        (scenario.smtp_host, "remote"),
    }
    assert len(inferred) == sql_statements(scenario) + 1
    graph = nodes_by_key(client.get_trace_graph(TraceIds=[scenario.user_trace])["Services"])
    assert V2 not in graph and V1 in graph and (scenario.database_node, "Database::SQL") in graph


def test_the_services_polled_the_daemon_without_errors(scenario: Scenario) -> None:
    calls = scenario.xray.stats()["api"]["calls"]
    assert calls.get("GetSamplingRules", 0) >= 2  # one per user management instance
    for service in scenario.services:
        assert SDK_POLLING_ERROR not in service.log_text(), service.name
