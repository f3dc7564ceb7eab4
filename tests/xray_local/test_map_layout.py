"""The service map as Chromium renders it: nothing drawn on anything else.

The geometry is read from the rendered SVG (map_geometry.js, run in the page over the
DevTools protocol): the bounding box of every node (disc and labels) and of every edge
label, and each edge sampled every 2 pixels along its path.
"""

from __future__ import annotations

import json
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.support.chromium import ChromiumUnavailable, evaluate
from tests.support.xray_documents import (
    USERMGMT,
    chain_trace,
    new_trace_id,
    notification_name,
    segment,
)
from tests.support.xray_local import LocalXRay

from .scenario import Scenario

GEOMETRY = (Path(__file__).parent / "map_geometry.js").read_text()
Box = tuple[float, float, float, float]
# Rendering rounds to sub-pixels; a touch this small is not an overlap.
TOLERANCE = 0.5


def rendered(url: str) -> dict[str, Any]:
    try:
        geometry: dict[str, Any] = evaluate(url, GEOMETRY)
    except ChromiumUnavailable as exc:
        pytest.fail(str(exc))
    return geometry


def overlap(a: Box, b: Box) -> bool:
    return (
        a[0] < b[2] - TOLERANCE
        and b[0] < a[2] - TOLERANCE
        and a[1] < b[3] - TOLERANCE
        and b[1] < a[3] - TOLERANCE
    )


def inside(point: list[float], box: Box) -> bool:
    x, y = point
    return (
        box[0] + TOLERANCE < x < box[2] - TOLERANCE and box[1] + TOLERANCE < y < box[3] - TOLERANCE
    )


def collisions(geometry: dict[str, Any]) -> list[str]:
    """Every node or label box on another, and every edge across a node other than its
    ends or across any edge's label."""
    boxes = {f"node {n['name']} ({n['type']})": n["box"] for n in geometry["nodes"]}
    for edge in geometry["edges"]:
        if edge["label"] is not None:
            boxes[f"label of {edge['source'][0]} -> {edge['target'][0]}"] = edge["label"]
    found = [
        f"{a} overlaps {b}"
        for (a, box_a), (b, box_b) in combinations(boxes.items(), 2)
        if overlap(box_a, box_b)
    ]
    for edge in geometry["edges"]:
        name = f"edge {edge['source'][0]} -> {edge['target'][0]}"
        ends = {f"node {end[0]} ({end[1]})" for end in (edge["source"], edge["target"])}
        for what, box in boxes.items():
            if what in ends:
                continue
            crossing = [p for p in edge["points"] if inside(p, box)]
            if crossing:
                found.append(f"{name} crosses {what} at {crossing[0]}")
    return found


@pytest.fixture(scope="module")
def scenario_map(scenario: Scenario) -> dict[str, Any]:
    return rendered(f"{scenario.xray.base_url}/")


def test_the_map_draws_every_node_of_the_call_chain(
    scenario_map: dict[str, Any], scenario: Scenario
) -> None:
    assert sorted((n["name"], n["type"]) for n in scenario_map["nodes"]) == sorted(
        [
            ("Client", "client"),
            (USERMGMT, "service"),
            (notification_name("V1"), "service"),
            (notification_name("V2"), "service"),
            (scenario.database_node, "Database::SQL"),
            (scenario.smtp_host, "remote"),  # the mail server, inferred from the SMTP call
        ]
    )
    assert len(scenario_map["edges"]) == 5


def test_no_node_label_or_edge_is_drawn_over_another(scenario_map: dict[str, Any]) -> None:
    assert collisions(scenario_map) == []


def test_every_edge_reaches_its_ends(scenario_map: dict[str, Any]) -> None:
    # Within a few pixels of each end's drawing: its disc, or the outcome ring around it.
    boxes = {(n["name"], n["type"]): grown(n["box"], 8) for n in scenario_map["nodes"]}
    for edge in scenario_map["edges"]:
        first, last = edge["points"][0], edge["points"][-1]
        assert inside(first, boxes[tuple(edge["source"])]), edge["source"]
        assert inside(last, boxes[tuple(edge["target"])]), edge["target"]


def grown(box: Box, by: float) -> Box:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def test_the_clients_of_every_entry_service_are_one_client_node(xray: LocalXRay) -> None:
    # The graph API has a client node per entry service, named after it: here user
    # management's, and notification's for a request that entered there directly.
    now = time.time()
    direct = segment(notification_name("V1"), trace_id=new_trace_id(now), start=now, end=now + 0.01)
    documents = [*chain_trace(sql_calls=1), *chain_trace(version="V2"), direct]
    xray.client().put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in documents])
    geometry = rendered(f"{xray.base_url}/")
    clients = [n for n in geometry["nodes"] if n["type"] == "client"]
    assert [(c["name"], c["calls"]) for c in clients] == [
        ("Client", f"{USERMGMT}, {notification_name('V1')}")
    ]
    from_client = sorted(e["target"][0] for e in geometry["edges"] if e["source"][0] == "Client")
    assert from_client == sorted([USERMGMT, notification_name("V1")])
    assert collisions(geometry) == []
