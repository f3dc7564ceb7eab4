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
