"""Must show 4: the processes the images run, with the same command and the same environment as
docker-compose.yml, start and answer the call chain on loopback.

Each compose service runs as a local process (see loopback.py): its image's CMD (or compose's
`command`), its image's ENV and compose's environment, able to import only what its image
installs. Only the names on compose's network change, to loopback stand-ins: MariaDB for
`mysql`, an SMTP server for `mailpit`, a UDP receiver standing in for the real daemon behind
`aws-xray-daemon`. `notification-clusterip-service` names both versions in compose; here one
user management process calls V1 and a second calls V2, so both edges of the canary show.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.polling import poll_until
from devstack.ports import free_tcp_port, free_udp_port
from devstack.processes import ProcessGroup, ServiceProcess
from tests.support.mariadb import DatabaseUnavailable, scratch_database
from tests.support.smtp import SmtpServer
from tests.support.udp import SegmentCollector
from tests.support.xray import new_trace_id, sampled_header

from .dockerfiles import IMAGES, last, stages
from .kube import Obj, containers, image_repository, named
from .loopback import Launch, StandIn, import_guard, launch

USERMGMT = "User-Management-Microservice"
# The variables whose compose value a process here cannot keep, and why; all others are as-is.
REWRITTEN = {
    "HOST": "containers listen on every interface; a test only on loopback",
    "PORT": "each process gets a free port instead of its own machine",
    "DB_HOSTNAME": "mysql -> the test MariaDB",
    "DB_PORT": "mysql -> the test MariaDB",
    "DB_NAME": "a scratch database per run",
    "DB_USERNAME": "the test server's account, not the one the mysql image creates",
    "DB_PASSWORD": "the test server's account, not the one the mysql image creates",
    "NOTIFICATION_SERVICE_HOST": "notification-clusterip-service -> V1's or V2's process",
    "NOTIFICATION_SERVICE_PORT": "notification-clusterip-service -> V1's or V2's process",
    "AWS_MAIL_SERVER_HOST": "mailpit -> an SMTP server on loopback",
    "AWS_MAIL_SERVER_PORT": "mailpit -> an SMTP server on loopback",
    "AWS_XRAY_DAEMON_ADDRESS": "xray-local -> its process (still a host name: localhost)",
}
EDGES = [
    (USERMGMT, "V1-Notification-Microservice"),
    (USERMGMT, "V2-Notification-Microservice"),
    (USERMGMT, "Database::SQL"),
]
# Resident memory may use this share of the k8s memory limit after the chain has run.
MEMORY_HEADROOM = 0.75


@dataclass
class Stack:
    compose: dict[str, Any]
    launches: dict[str, Launch]
    processes: dict[str, ServiceProcess]
    smtp: SmtpServer
    upstream: SegmentCollector
    xray_api: str


def start(group: ProcessGroup, name: str, plan: Launch, ready: str, port: int) -> ServiceProcess:
    return group.start(name, plan.args, env=plan.env, port=port, ready_path=ready)


@pytest.fixture(scope="module")
def stack(compose: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    services = compose["services"]
    work = tmp_path_factory.mktemp("processes")
    smtp, upstream = SmtpServer(), SegmentCollector()
    try:
        with scratch_database() as db, ProcessGroup(work / "logs") as group:
            udp, tcp = free_udp_port(), free_tcp_port()
            stand_ins = {
                "mysql": StandIn(db.host, db.port, db.env()),
                "mailpit": StandIn("127.0.0.1", smtp.port),
                "xray-local": StandIn("localhost", udp),
                "aws-xray-daemon": StandIn("127.0.0.1", upstream.port),
            }
            plans: dict[str, Launch] = {}
            processes: dict[str, ServiceProcess] = {}

            def guarded(name: str, plan: Launch) -> Launch:
                extra = IMAGES[image_repository(services[name]["image"])].extra
                plan.env.update(import_guard(extra, work / "guards" / name))
                return plan

            plan = guarded("xray-local", launch(services["xray-local"], stand_ins, None))
            # Its config binds 0.0.0.0:2000 and compose's command 0.0.0.0:4318; later flags
            # override both, as with the real daemon, so parallel runs never share a port.
            otlp = free_tcp_port()
            plan.args += ["-b", f"127.0.0.1:{udp}", "-t", f"127.0.0.1:{tcp}"]
            plan.args += ["--bind-otlp", f"127.0.0.1:{otlp}"]
            plans["xray-local"] = plan
            processes["xray-local"] = start(group, "xray-local", plan, "/health", tcp)
            for version in ("v1", "v2"):
                name, port = f"notification-{version}", free_tcp_port()
                plans[name] = guarded(name, launch(services[name], stand_ins, port))
                processes[name] = start(
                    group, name, plans[name], "/notification/health-status", port
                )
                callee = processes[name]
                to_version = {
                    **stand_ins,
                    "notification-clusterip-service": StandIn("localhost", callee.port or 0),
                }
                name, port = f"usermgmt-to-{version}", free_tcp_port()
                plans[name] = guarded("usermgmt", launch(services["usermgmt"], to_version, port))
                processes[name] = start(group, name, plans[name], "/usermgmt/health-status", port)
            yield Stack(compose, plans, processes, smtp, upstream, f"http://127.0.0.1:{tcp}")
    except DatabaseUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        smtp.stop()
        upstream.close()


def test_only_network_names_change(stack: Stack) -> None:
    for name, plan in stack.launches.items():
        unexplained = plan.rewritten - set(REWRITTEN)
        assert not unexplained, f"{name}: compose's {unexplained} changed without a reason"


@pytest.mark.parametrize("version", ["V1", "V2"])
def test_the_call_chain_answers(stack: Stack, version: str) -> None:
    caller = stack.processes[f"usermgmt-to-{version.lower()}"]
    trace_id = new_trace_id()
    response = httpx.get(
        f"{caller.base_url}/usermgmt/notification-xray", headers=sampled_header(trace_id)
    )
    assert response.status_code == 200, response.text
    assert response.json()["appversion"] == version
    # The log lines of that request carry its trace id (LOG_FORMAT as compose sets it).
    poll_until(lambda: trace_id in caller.log_text(), f"trace {trace_id} in the log", timeout=5)


def test_a_new_user_gets_the_creation_email(stack: Stack) -> None:
    caller = stack.processes["usermgmt-to-v1"]
    username = f"deploy{secrets.token_hex(3)}"
    user = {
        "username": username,
        "email": f"{username}@example.org",
        "password": "Passw0rd!",
        "firstname": "Dana",
        "lastname": "Deploy",
    }
    created = httpx.post(
        f"{caller.base_url}/usermgmt/user", json=user, headers=sampled_header(new_trace_id())
    )
    assert created.status_code == 201, created.text
    assert httpx.get(f"{caller.base_url}/usermgmt/user/{username}").status_code == 200
    mail = stack.smtp.wait_for_mail_to(user["email"])
    assert username in mail.message.get_payload()


def edges(stack: Stack) -> set[tuple[str, str]]:
    """The service map's edges as (caller, callee); a database is known by its type."""
    now = time.time()
    body = {"StartTime": now - 600, "EndTime": now + 60}
    services = httpx.post(f"{stack.xray_api}/ServiceGraph", json=body).json()["Services"]
    by_id = {s["ReferenceId"]: s for s in services}

    def node(reference: int) -> str:
        found = by_id[reference]
        return "Database::SQL" if found["Type"] == "Database::SQL" else str(found["Name"])

    return {
        (s["Name"], node(e["ReferenceId"]))
        for s in services
        if s["Type"] != "client"
        for e in s.get("Edges", [])
    }


@pytest.mark.parametrize(("parent", "child"), EDGES, ids=lambda n: n.split("-")[0])
def test_the_local_daemon_maps_the_chain(stack: Stack, parent: str, child: str) -> None:
    for version in ("v1", "v2"):
        url = f"{stack.processes[f'usermgmt-to-{version}'].base_url}/usermgmt/users"
        assert httpx.get(url, headers=sampled_header(new_trace_id())).status_code == 200
        url = f"{stack.processes[f'usermgmt-to-{version}'].base_url}/usermgmt/notification-xray"
        assert httpx.get(url, headers=sampled_header(new_trace_id())).status_code == 200
    poll_until(lambda: (parent, child) in edges(stack), f"the edge {parent} -> {child}", timeout=10)


def test_the_local_daemon_relays_to_the_real_one(stack: Stack) -> None:
    caller = stack.processes["usermgmt-to-v2"]
    trace_id = new_trace_id()
    httpx.get(f"{caller.base_url}/usermgmt/notification-xray", headers=sampled_header(trace_id))
    documents = stack.upstream.wait_for_trace(trace_id, 2)
    assert {d["name"] for d in documents} == {USERMGMT, "V2-Notification-Microservice"}


@pytest.mark.parametrize(
    "name", ["usermgmt-to-v1", "notification-v1", "notification-v2", "xray-local"]
)
def test_the_image_healthcheck_passes_and_can_fail(stack: Stack, name: str) -> None:
    plan, process = stack.launches[name], stack.processes[name]
    service = stack.compose["services"][name.removesuffix("-to-v1")]
    check = last(stages(IMAGES[image_repository(service["image"])].dockerfile)[-1], "HEALTHCHECK")
    command = [plan.args[0], *check.exec_form()[1:]]
    if name == "xray-local":
        # Its check asks port 2000, the port its CMD binds; here it listens elsewhere.
        command[-1] = command[-1].replace("127.0.0.1:2000", f"127.0.0.1:{process.port}")
    assert subprocess.run(command, env=plan.env, timeout=10).returncode == 0
    closed = {**plan.env, "PORT": str(free_tcp_port())}
    if name != "xray-local":
        assert subprocess.run(command, env=closed, capture_output=True, timeout=10).returncode != 0


@pytest.mark.parametrize("deployment", ["usermgmt", "notification-v1", "notification-v2"])
def test_k8s_probes_and_memory_limit_fit_the_process(
    stack: Stack, base: list[Obj], deployment: str
) -> None:
    process = stack.processes[deployment.replace("usermgmt", "usermgmt-to-v1")]
    [server] = list(containers([named(base, "Deployment", deployment)]))
    caller = stack.processes["usermgmt-to-v1"]
    # The peak is read after the process has served the chain, not just started.
    assert httpx.get(f"{caller.base_url}/usermgmt/notification-xray").status_code == 200
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        path = server.spec[probe]["httpGet"]["path"]
        assert httpx.get(f"{process.base_url}{path}").status_code == 200, f"{probe} {path}"
    limit = server.spec["resources"]["limits"]["memory"]
    limit_kib = int(limit.removesuffix("Mi")) * 1024
    status = Path(f"/proc/{process.popen.pid}/status").read_text()
    peak_kib = int(
        next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]
    )
    assert peak_kib < limit_kib * MEMORY_HEADROOM, (
        f"{deployment} peaked at {peak_kib} KiB; limit {limit}"
    )


def test_the_import_guard_refuses_what_the_image_lacks(tmp_path: Path) -> None:
    """Guards the guard: in the notification image there is no SQLAlchemy."""
    plan_env = import_guard("notification", tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import sqlalchemy"], env=plan_env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "not in the notification image" in result.stderr
    ok = subprocess.run([sys.executable, "-c", "import httpx, pydantic"], env=plan_env)
    assert ok.returncode == 0
