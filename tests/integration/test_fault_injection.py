"""Faults injected into notification V2 at runtime show on the map where they happen.

V1 and V2 behind a per-connection balancer, user management connecting per call, all
tracing to the local daemon. Faults are switched on V2 through its admin endpoint, without a
restart, while traffic flows: first 503s at a 50% rate with 100 ms added, then 429s, then
none. The map must put the faults and errors on the V2 node and the user management -> V2
edge, none on V1 or its edge; user management's own node shows the 502s it answered with.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from devstack import tracing_env
from devstack.polling import poll_until
from devstack.processes import ProcessGroup, ServiceProcess, child_env
from tests.support.faults import FAULTS_PATH, call_chain, set_faults, start_split_chain
from tests.support.mariadb import ScratchDatabase
from tests.support.service_graph import edge_between, nodes_by_key
from tests.support.stack import Chain
from tests.support.xray_documents import USERMGMT, notification_name
from tests.support.xray_local import LocalXRay, start_xray_local

V1 = (notification_name("V1"), "service")
V2 = (notification_name("V2"), "service")
USERS = (USERMGMT, "service")
CLIENT = (USERMGMT, "client")
SLOW_FAULTS = {"errorRate": 0.5, "errorStatus": 503, "latencyMs": 100}
THROTTLING = {"errorRate": 1, "errorStatus": 429}


@dataclass
class Outcome:
    """What the client saw in each phase: "V1"/"V2" for answers; for a 502, the status the
    notification service failed with, as user management's error message says."""

    phases: dict[str, Counter[str]]

    def total(self, key: str) -> int:
        return sum(seen[key] for seen in self.phases.values())

    @property
    def requests(self) -> int:
        return sum(sum(seen.values()) for seen in self.phases.values())


@dataclass
class Run:
    xray: LocalXRay
    outcome: Outcome
    start: float
    v2: ServiceProcess

    def has_every_request(self) -> bool:
        """Both segments of every request have arrived: user management's and notification's."""
        totals = {
            key: node.get("SummaryStatistics", {}).get("TotalCount")
            for key, node in self.nodes().items()
        }
        requests = self.outcome.requests
        return totals.get(USERS) == requests and totals.get(V1, 0) + totals.get(V2, 0) == requests

    def nodes(self) -> dict[tuple[str, str], dict[str, Any]]:
        return nodes_by_key(self.graph())

    def graph(self) -> list[dict[str, Any]]:
        answer = self.xray.client().get_service_graph(StartTime=self.start, EndTime=2e9)
        services: list[dict[str, Any]] = answer["Services"]
        return services


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, shared_database: ScratchDatabase
) -> Iterator[Run]:
    with ProcessGroup(tmp_path_factory.mktemp("faults")) as group:
        xray = start_xray_local(group)
        tracing = tracing_env(xray.daemon_address)
        split = start_split_chain(group, tracing=tracing, database=shared_database, seed=7)
        v2, balancer, usermgmt = split.v2, split.balancer, split.usermgmt
        start = time.time() - 1
        phases: dict[str, Counter[str]] = {}
        try:
            with httpx.Client(base_url=usermgmt.base_url, timeout=10) as client:
                phases["healthy"] = call_chain(client, 20)
                set_faults(v2, SLOW_FAULTS)
                phases["slow faults"] = call_chain(client, 100)
                set_faults(v2, THROTTLING)
                phases["throttling"] = call_chain(client, 40)
                set_faults(v2, None)
                phases["recovered"] = call_chain(client, 20)
        finally:
            balancer.close()
        outcome = Outcome(phases)
        result = Run(xray, outcome, start, v2)
        # Every request's two segments (user management, notification) have arrived.
        poll_until(lambda: result.has_every_request(), "the daemon to see every request")
        yield result


def statistics(run: Run, source: tuple[str, str], target: tuple[str, str] | None = None) -> Any:
    services = run.graph()
    if target is None:
        return nodes_by_key(services)[source]["SummaryStatistics"]
    return edge_between(services, source, target)["SummaryStatistics"]


def test_the_client_saw_the_faults_come_and_go(run: Run) -> None:
    healthy, slow, throttling, recovered = run.outcome.phases.values()
    assert set(healthy) == set(recovered) == {"V1", "V2"}  # no failures before or after
    assert set(slow) == {"V1", "V2", "503"}  # some V2 calls failed, some did not
    assert set(throttling) == {"V1", "429"}  # every V2 call failed


@pytest.mark.parametrize("where", ["node", "edge"])
def test_faults_and_errors_land_on_v2(run: Run, where: str) -> None:
    stats = statistics(run, *((V2,) if where == "node" else (USERS, V2)))
    faults = run.outcome.total("503")
    throttled = run.outcome.total("429")
    assert stats["FaultStatistics"]["TotalCount"] == faults
    assert stats["ErrorStatistics"]["TotalCount"] == throttled
    assert stats["ErrorStatistics"]["ThrottleCount"] == throttled
    assert stats["TotalCount"] == run.outcome.total("V2") + faults + throttled
    assert stats["OkCount"] == run.outcome.total("V2")


def test_the_injected_latency_shows_on_v2(run: Run) -> None:
    """Every call in the slow phase waited 100 ms at V2, answered or not."""
    slow = run.outcome.phases["slow faults"]
    slow_calls = slow["V2"] + slow["503"]
    assert statistics(run, V2)["TotalResponseTime"] >= 0.1 * slow_calls


@pytest.mark.parametrize("where", ["node", "edge"])
def test_v1_stays_clean(run: Run, where: str) -> None:
    stats = statistics(run, *((V1,) if where == "node" else (USERS, V1)))
    assert stats["TotalCount"] == stats["OkCount"] == run.outcome.total("V1")
    assert stats["FaultStatistics"]["TotalCount"] == stats["ErrorStatistics"]["TotalCount"] == 0


def test_user_management_shows_only_the_failures_it_passed_on(run: Run) -> None:
    """It answered 502 for each failed V2 call: faults of its own, and nothing more."""
    for stats in (statistics(run, USERS), statistics(run, CLIENT, USERS)):
        assert stats["FaultStatistics"]["TotalCount"] == run.outcome.total("503") + (
            run.outcome.total("429")
        )
        assert stats["ErrorStatistics"]["TotalCount"] == 0
        assert stats["OkCount"] == run.outcome.total("V1") + run.outcome.total("V2")


def test_setting_faults_is_not_traffic_on_the_map(run: Run) -> None:
    """The admin calls went straight to V2: traced, they would add a client -> V2 edge."""
    assert set(run.nodes()) == {CLIENT, USERS, V1, V2}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"errorRate": 2}, "errorRate"),
        ({"errorStatus": 200}, "errorStatus"),
        ({"latencyMs": -1}, "latencyMs"),
        ({"errorRate": 0.5, "delay": 3}, "delay"),
    ],
)
def test_invalid_faults_are_refused_and_change_nothing(
    run: Run, body: dict[str, Any], field: str
) -> None:
    url = run.v2.base_url + FAULTS_PATH
    before = httpx.get(url).json()

    response = httpx.put(url, json=body)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert httpx.get(url).json() == before


def test_without_fault_injection_enabled_there_is_no_admin_endpoint(chain: Chain) -> None:
    notification = chain.notification.base_url
    response = httpx.put(notification + FAULTS_PATH, json={"errorRate": 1})
    assert response.status_code == 404 and response.json()["message"] == "Not Found"
    spec = httpx.get(notification + "/notification/openapi.json").json()
    assert not [path for path in spec["paths"] if "admin" in path]


def faults_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notification.faults", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=child_env({}),
    )


def test_the_command_sets_shows_and_clears_faults(run: Run) -> None:
    url = ("--url", run.v2.base_url)

    set_ = faults_cli(*url, "--error-rate", "0.25", "--latency-ms", "5")
    shown = faults_cli(*url)
    cleared = faults_cli(*url, "--clear")

    assert set_.returncode == shown.returncode == cleared.returncode == 0, set_.stderr
    assert json.loads(set_.stdout) == {"errorRate": 0.25, "errorStatus": 500, "latencyMs": 5}
    assert shown.stdout == set_.stdout
    assert json.loads(cleared.stdout) == {"errorRate": 0, "errorStatus": 500, "latencyMs": 0}


def test_the_command_says_what_is_wrong(run: Run, chain: Chain) -> None:
    invalid = faults_cli("--url", run.v2.base_url, "--error-rate", "3")
    assert invalid.returncode == 1
    assert invalid.stderr.strip() == (
        "Invalid request: errorRate: Input should be less than or equal to 1"
    )
    disabled = faults_cli("--url", chain.notification.base_url)
    assert disabled.returncode == 1
    assert "start it with FAULT_INJECTION_ENABLED=true" in disabled.stderr
