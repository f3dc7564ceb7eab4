"""The service map is the same whichever SDK records the services: the same traffic, sent once
through services on the X-Ray SDK (segments over UDP) and once through services with
TRACING_SDK=otel (OTLP/HTTP spans), draws the same nodes, types, edges and counts in
GetServiceGraph (boto3, against a local daemon of each run's own).

The traffic: GET /usermgmt/notification-xray with notification V1 and V2 behind a balancer
that picks a backend per connection (seeded, so both runs pick alike; user management opens a
connection per call), first healthy, then with V2 throttling (429), then with V2 failing
(503); and look-ups of users that do not exist (404s, with their SQL call).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.polling import poll_until
from devstack.processes import ProcessGroup
from tests.support.faults import call_chain, set_faults, start_split_chain
from tests.support.mariadb import ScratchDatabase
from tests.support.modes import MODES, mode_env
from tests.support.service_graph import Services, counts, nodes_by_key, shape
from tests.support.xray_documents import USERMGMT, notification_name
from tests.support.xray_local import LocalXRay, start_xray_local

PHASES = [("healthy", None, 12), ("throttling", 429, 4), ("failing", 503, 4)]
MISSING_USERS = 2
BALANCER_SEED = 20261130
CLIENT = (USERMGMT, "client")
USERS = (USERMGMT, "service")
V1 = (notification_name("V1"), "service")
V2 = (notification_name("V2"), "service")


@dataclass
class MapRun:
    seen: Counter[str]  # what the client saw: "V1"/"V2" answers, V2's failures by status
    graph: Services


def run_traffic(mode: str, log_dir: Path, database: ScratchDatabase) -> MapRun:
    """Start the daemon, V1, V2 and user management in `mode`, send the traffic, and read
    the map once every request's documents are in it."""
    with ProcessGroup(log_dir) as group:
        daemon = start_xray_local(group)
        tracing = mode_env(mode, daemon)
        split = start_split_chain(group, tracing=tracing, database=database, seed=BALANCER_SEED)
        start = time.time() - 1
        seen: Counter[str] = Counter()
        try:
            with httpx.Client(base_url=split.usermgmt.base_url, timeout=10) as client:
                for _, status, requests in PHASES:
                    faults = {"errorRate": 1, "errorStatus": status} if status else None
                    set_faults(split.v2, faults)
                    seen += call_chain(client, requests)
                for index in range(MISSING_USERS):
                    missing = client.get(f"/usermgmt/user/nobody{index}")
                    assert missing.status_code == 404, missing.text
        finally:
            split.balancer.close()
        return MapRun(seen, settled_graph(daemon, start, seen))


def settled_graph(daemon: LocalXRay, start: float, seen: Counter[str]) -> Services:
    """The map once user management's node counts every request and the notification nodes
    every call, and a second reading finds it unchanged."""
    calls = sum(seen.values())
    readings: list[Services] = []

    def complete() -> Services | None:
        graph: Services = daemon.client().get_service_graph(StartTime=start, EndTime=2e9)[
            "Services"
        ]
        done = total(graph, USERS) == calls + MISSING_USERS
        done = done and total(graph, V1) + total(graph, V2) == calls
        unchanged = bool(readings) and shape(readings[-1]) == shape(graph)
        readings.append(graph)
        return graph if done and unchanged else None

    return poll_until(complete, f"the map of {calls + MISSING_USERS} requests", timeout=30)


def total(graph: Services, node: tuple[str, str]) -> int:
    found = nodes_by_key(graph).get(node)
    figures = counts(found.get("SummaryStatistics")) if found else None
    return figures[0] if figures else 0


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, shared_database: ScratchDatabase
) -> dict[str, MapRun]:
    return {
        mode: run_traffic(mode, tmp_path_factory.mktemp(f"map-{mode}"), shared_database)
        for mode in MODES
    }


def test_both_modes_draw_the_same_map(runs: dict[str, MapRun]) -> None:
    xray, otel = runs["xray"], runs["otel"]
    assert otel.seen == xray.seen  # the same traffic, the same answers
    print(f"\nthe client saw {dict(xray.seen)}; the map, in both modes:")
    for key, found in shape(xray.graph).items():
        print(f"  {key}: {found}")
    assert shape(otel.graph) == shape(xray.graph)


def test_the_map_counts_what_the_client_saw(
    runs: dict[str, MapRun], shared_database: ScratchDatabase
) -> None:
    """Not merely equal: right. Counts are (total, ok, errors, throttled, faults)."""
    seen = runs["xray"].seen
    v1, v2, throttled, failed = seen["V1"], seen["V2"], seen["429"], seen["503"]
    assert v1 and v2 and throttled and failed, seen  # the balancer sent calls to both
    calls = v1 + v2 + throttled + failed
    requests = calls + MISSING_USERS
    users = (requests, v1 + v2, MISSING_USERS, 0, throttled + failed)
    database = (f"{shared_database.name}@127.0.0.1", "Database::SQL")
    assert shape(runs["xray"].graph) == {
        f"node {CLIENT}": None,
        f"edge {CLIENT} -> {USERS}": users,
        f"node {USERS}": users,
        f"edge {USERS} -> {V1}": (v1, v1, 0, 0, 0),
        f"edge {USERS} -> {V2}": (v2 + throttled + failed, v2, throttled, throttled, failed),
        f"edge {USERS} -> {database}": (MISSING_USERS, MISSING_USERS, 0, 0, 0),
        f"node {V1}": (v1, v1, 0, 0, 0),
        f"node {V2}": (v2 + throttled + failed, v2, throttled, throttled, failed),
        f"node {database}": (MISSING_USERS, MISSING_USERS, 0, 0, 0),
    }
