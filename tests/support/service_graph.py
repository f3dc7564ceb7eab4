"""Reading X-Ray's GetServiceGraph / GetTraceGraph answers: nodes by (name, type), edges."""

from __future__ import annotations

from typing import Any

NodeKey = tuple[str, str]
Services = list[dict[str, Any]]


def nodes_by_key(services: Services) -> dict[NodeKey, dict[str, Any]]:
    return {(service["Name"], service["Type"]): service for service in services}


def edge_between(services: Services, source: NodeKey, target: NodeKey) -> dict[str, Any]:
    """The edge from `source` to `target`, failing with what the graph has instead."""
    nodes = nodes_by_key(services)
    assert source in nodes and target in nodes, f"{source} or {target} not in {sorted(nodes)}"
    reference = nodes[target]["ReferenceId"]
    found = [edge for edge in nodes[source]["Edges"] if edge["ReferenceId"] == reference]
    assert found, f"no edge {source} -> {target}"
    edge: dict[str, Any] = found[0]
    return edge


def callees(services: Services, source: NodeKey) -> set[str]:
    """The names of the nodes `source` calls."""
    names = {service["ReferenceId"]: service["Name"] for service in services}
    return {names[edge["ReferenceId"]] for edge in nodes_by_key(services)[source]["Edges"]}


Counts = tuple[int, int, int, int, int]


def counts(statistics: dict[str, Any] | None) -> Counts | None:
    """(total, ok, errors, throttled, faults) of a node's or edge's SummaryStatistics."""
    if statistics is None:
        return None
    return (
        statistics["TotalCount"],
        statistics["OkCount"],
        statistics["ErrorStatistics"]["TotalCount"],
        statistics["ErrorStatistics"]["ThrottleCount"],
        statistics["FaultStatistics"]["TotalCount"],
    )


def shape(services: Services, *, response_times: bool = False) -> dict[str, Any]:
    """The graph as comparable data: each node (name, type) with its counts, each edge
    "source -> target" with its counts (and, with `response_times`, its total response time
    to 0.1 ms: spans carry nanoseconds, segments floating-point seconds)."""
    names = {service["ReferenceId"]: (service["Name"], service["Type"]) for service in services}
    found: dict[str, Any] = {}
    for service in services:
        node = names[service["ReferenceId"]]
        found[f"node {node}"] = counts(service.get("SummaryStatistics"))
        for edge in service["Edges"]:
            statistics = edge["SummaryStatistics"]
            key = f"edge {node} -> {names[edge['ReferenceId']]}"
            found[key] = counts(statistics)
            if response_times:
                found[key] = (found[key], round(statistics["TotalResponseTime"], 4))
    return found
