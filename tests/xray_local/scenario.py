"""The services on loopback, traced through the local daemon, after a known set of requests.

Two user management instances (one calling notification V1, one V2, as a canary split
does), MariaDB, a real SMTP server, and the daemon. The services sample with the SDK's
centralized sampler, polling the daemon's rules, exactly as in docker compose and on EKS.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from devstack import start_notification
from devstack.polling import poll_until
from devstack.processes import ProcessGroup, ServiceProcess
from tests.support.mariadb import ScratchDatabase
from tests.support.smtp import SmtpServer
from tests.support.stack import start_usermgmt
from tests.support.xray_local import LocalXRay, start_xray_local

NEW_USER = {
    "username": "admin1",
    "email": "admin1@example.com",
    "role": "ROLE_ADMIN",
    "enabled": True,
    "firstname": "Ada",
    "lastname": "Admin",
    "password": "Pass@123",
}
CALLS_TO_V1 = 3
CALLS_TO_V2 = 2
SDK_POLLING_ERROR = "Encountered an issue while polling"


@dataclass
class Scenario:
    xray: LocalXRay
    database: ScratchDatabase
    smtp_host: str
    services: list[ServiceProcess]
    start: float
    v1_traces: list[str] = field(default_factory=list)  # GET /usermgmt/notification-xray
    v2_traces: list[str] = field(default_factory=list)
    user_trace: str = ""  # POST /usermgmt/user (SQL, then the email through V1)

    @property
    def database_node(self) -> str:
        return f"{self.database.name}@{self.database.host}"

    @property
    def trace_ids(self) -> list[str]:
        return [*self.v1_traces, *self.v2_traces, self.user_trace]

    def graph(self) -> list[dict[str, Any]]:
        """GetServiceGraph through boto3, from the scenario's start to now."""
        answer = self.xray.client().get_service_graph(StartTime=self.start, EndTime=time.time() + 1)
        services: list[dict[str, Any]] = answer["Services"]
        return services

    def documents(self, trace_id: str) -> list[dict[str, Any]]:
        trace = self.xray.client().batch_get_traces(TraceIds=[trace_id])["Traces"][0]
        return [json.loads(segment["Document"]) for segment in trace["Segments"]]


def trace_of(response: httpx.Response) -> str:
    assert response.status_code < 300, response.text
    return response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")


def run_scenario(group: ProcessGroup, database: ScratchDatabase) -> Scenario:
    smtp = SmtpServer()
    try:
        return _run(group, database, smtp)
    finally:
        smtp.stop()


def _run(group: ProcessGroup, database: ScratchDatabase, smtp: SmtpServer) -> Scenario:
    xray = start_xray_local(group)
    # No XRAY_SAMPLING_RULES: the SDK's centralized sampler polls this daemon's rules.
    tracing = {"AWS_XRAY_DAEMON_ADDRESS": xray.daemon_address}
    v1 = start_notification(group, tracing=tracing, smtp_port=smtp.port, version="V1")
    v2 = start_notification(group, tracing=tracing, smtp_port=smtp.port, version="V2")
    users = {}
    for version, notification in (("V1", v1), ("V2", v2)):
        assert notification.port is not None
        users[version] = start_usermgmt(
            group,
            tracing=tracing,
            database=database,
            notification_port=notification.port,
            name=f"usermgmt-to-{version.lower()}",
        )
    for service in users.values():
        wait_for_daemon_rules(xray, service)
    # Warm-up traces stay out of the scenario's window: it starts at the next whole second
    # (trace ids and the graph count time in whole seconds).
    start = float(math.floor(time.time()) + 1)
    poll_until(lambda: time.time() >= start, "the scenario's first second", timeout=2)
    scenario = Scenario(xray, database, "127.0.0.1", [v1, v2, *users.values()], start)
    for _ in range(CALLS_TO_V1):
        response = httpx.get(f"{users['V1'].base_url}/usermgmt/notification-xray", timeout=10)
        scenario.v1_traces.append(trace_of(response))
    for _ in range(CALLS_TO_V2):
        response = httpx.get(f"{users['V2'].base_url}/usermgmt/notification-xray", timeout=10)
        scenario.v2_traces.append(trace_of(response))
    response = httpx.post(f"{users['V1'].base_url}/usermgmt/user", json=NEW_USER, timeout=10)
    scenario.user_trace = trace_of(response)
    smtp.wait_for_mail_to(str(NEW_USER["email"]))
    wait_until_complete(scenario)
    return scenario


def wait_for_daemon_rules(xray: LocalXRay, service: ServiceProcess) -> None:
    """Until the service samples by the daemon's Default rule (the segment says which rule
    sampled it); before the rules arrive the SDK falls back to 1 request a second."""
    client = xray.client()

    def sampled_by_daemon_rule() -> bool:
        response = httpx.get(f"{service.base_url}/usermgmt/notification-xray", timeout=10)
        trace_id = trace_of(response)
        traces = poll_until(
            lambda: client.batch_get_traces(TraceIds=[trace_id])["Traces"],
            f"warm-up trace {trace_id}",
            timeout=1,
        )
        documents = [json.loads(s["Document"]) for s in traces[0]["Segments"]]
        rules = {d.get("aws", {}).get("xray", {}).get("sampling_rule_name") for d in documents}
        return "Default" in rules

    poll_until(
        sampled_by_daemon_rule, f"{service.name} to sample by the daemon's rules", timeout=30
    )


def wait_until_complete(scenario: Scenario) -> None:
    """Every scenario trace has its two segments, none still in progress."""
    client = scenario.xray.client()

    def complete() -> bool:
        traces = client.batch_get_traces(TraceIds=scenario.trace_ids)["Traces"]
        found = {}
        for trace in traces:
            documents = [json.loads(s["Document"]) for s in trace["Segments"]]
            found[trace["Id"]] = [d for d in documents if not d.get("inferred")]
        return all(
            len(found.get(trace_id, [])) == 2
            and not any(document.get("in_progress") for document in found[trace_id])
            for trace_id in scenario.trace_ids
        )

    poll_until(complete, "every scenario trace to arrive whole", timeout=30)
