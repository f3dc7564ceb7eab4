"""`docker compose up` with the repository's docker-compose.yml, as a user runs it, on this
run's images and published ports: every service healthy through its own check, then the
walkthrough of docs/compose.md through the published ports, and `down -v` leaving nothing.

The tests run in file order: the last one takes the stack down."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from devstack import poll_until
from tests.deploy import composefile
from tests.support.service_graph import callees, nodes_by_key
from tests.support.users import new_user
from tests.support.xray_documents import USERMGMT, notification_name

from . import summary
from .compose import Stack
from .engine import REPO, SESSION_SETUP_SECONDS, health, logs
from .images import Built

# The first test also waits for the builds: base images, the wheelhouse, the project's images.
pytestmark = [pytest.mark.containers, pytest.mark.timeout(SESSION_SETUP_SECONDS)]

SERVICES = ("mysql", "xray-local", "mailpit", "notification-v1", "notification-v2", "usermgmt")
# MySQL initialises its volume on the first start, then user management waits for everyone.
UP_WITHIN_SECONDS = 240
SPLIT_CALLS = 400
SPLIT_EXPECTED, SPLIT_TOLERANCE = 0.50, 0.07
ACCOUNT_EMAIL_SUBJECT = "Your user management account"
USERS = (USERMGMT, "service")
CLIENT = (USERMGMT, "client")
DATABASE = ("usermgmt@mysql", "Database::SQL")
# Docker's health states that may still end in `healthy`.
HOPEFUL = ("starting", "healthy")


class NeverHealthy(Exception):
    """A container exited or its check failed every retry: waiting longer will not help."""


@pytest.fixture(scope="module")
def stack(
    built: dict[str, Built], run: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    stack = Stack.create(run, REPO, tmp_path_factory.mktemp("compose"), image_tag=run)
    try:
        failure = ""
        try:
            # Compose starts a service once those it depends on are healthy, and fails if
            # one turns unhealthy; the last to start are waited for here.
            stack.up()
            poll_until(
                lambda: all_healthy(stack),
                "every compose service to report healthy",
                timeout=UP_WITHIN_SECONDS,
                interval=2,
                fatal=(NeverHealthy,),
            )
        except (AssertionError, TimeoutError, NeverHealthy) as exc:
            failure = f"{exc}\n{describe(stack)}"
        if failure:
            pytest.fail(failure, pytrace=False)
        yield stack
    finally:
        stack.down()


def all_healthy(stack: Stack) -> bool:
    containers = stack.containers()
    states = {
        container["Name"].lstrip("/"): health(container["Name"].lstrip("/"))
        for found in containers.values()
        for container in found
    }
    broken = {name: state for name, state in states.items() if state not in HOPEFUL}
    if broken:
        raise NeverHealthy(f"not healthy, and never will be: {broken}")
    return set(containers) == set(SERVICES) and set(states.values()) == {"healthy"}


def describe(stack: Stack) -> str:
    """Each container's state and the end of its log: why a stack did not come up."""
    parts = []
    for service, found in sorted(stack.containers().items()):
        for container in found:
            name = container["Name"].lstrip("/")
            checks = (container["State"].get("Health") or {}).get("Log") or [{}]
            last_check = str(checks[-1].get("Output", "")).strip()
            parts.append(
                f"--- {service} ({name}): {health(name)}; its last health check said: "
                f"{last_check or '(nothing)'}\n{logs(name)}"
            )
    return "\n".join(parts)


def health_check_of(container: dict[str, Any]) -> list[str]:
    test: list[str] = container["Config"]["Healthcheck"]["Test"]
    return test


@pytest.fixture(scope="module")
def usermgmt(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url("USERMGMT_PORT"), timeout=10) as client:
        yield client


def test_every_service_is_healthy_through_its_own_check(stack: Stack) -> None:
    """The compose file's healthcheck where it has one, else the image's HEALTHCHECK; each
    ran inside its container and passed (exit code 0), which `up` alone does not show."""
    declared = composefile.resolve()["services"]
    containers = stack.containers()
    assert sorted(containers) == sorted(SERVICES)
    for service, [container] in containers.items():
        check = health_check_of(container)
        if "healthcheck" in declared[service]:
            # `config` prints the file's $$ (a literal $ for the container's shell) as written.
            written = [part.replace("$$", "$") for part in declared[service]["healthcheck"]["test"]]
            assert check == written, service
        else:
            assert check, f"{service}: its image has no HEALTHCHECK"
        state = container["State"]["Health"]
        assert state["Status"] == "healthy", f"{service}: {state}"
        assert state["Log"] and state["Log"][-1]["ExitCode"] == 0, f"{service}: {state['Log']}"


def test_the_chain_answers_through_the_published_port(usermgmt: httpx.Client) -> None:
    response = usermgmt.get("/usermgmt/notification-xray")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["applicationname"] == "Notification Microservice"
    assert body["appversion"] in ("V1", "V2")
    assert response.headers["X-Amzn-Trace-Id"].startswith("Root=1-")


def test_a_created_users_email_reaches_the_inbox(stack: Stack, usermgmt: httpx.Client) -> None:
    user = new_user(f"ct{secrets.token_hex(4)}")
    created = usermgmt.post("/usermgmt/user", json=user)
    assert created.status_code == 201, created.text
    assert usermgmt.get(f"/usermgmt/user/{user['username']}").json()["email"] == user["email"]

    def delivered() -> dict[str, Any] | None:
        listing = httpx.get(stack.url("MAILPIT_PORT", "/api/v1/messages"), timeout=5).json()
        for message in listing["messages"]:
            if [to["Address"] for to in message["To"]] == [user["email"]]:
                found: dict[str, Any] = message
                return found
        return None

    message = poll_until(delivered, f"the email to {user['email']} in the inbox", timeout=30)
    assert message["Subject"] == ACCOUNT_EMAIL_SUBJECT
    assert message["From"]["Address"] == "notification@example.com"


def test_calls_split_between_v1_and_v2_through_dockers_dns(
    usermgmt: httpx.Client, pytestconfig: pytest.Config
) -> None:
    """Both versions answer to one name; user management connects afresh for every call, so
    Docker's DNS answers decide each call: about half each."""
    seen: Counter[str] = Counter()
    for _ in range(SPLIT_CALLS):
        response = usermgmt.get("/usermgmt/notification-xray")
        assert response.status_code == 200, response.text
        seen[response.json()["appversion"]] += 1
    share = seen["V2"] / SPLIT_CALLS
    summary.note(
        pytestconfig,
        f"V1/V2 split through Docker's DNS: {seen['V1']}/{seen['V2']} of {SPLIT_CALLS} calls "
        f"({share:.1%} V2)",
    )
    assert set(seen) == {"V1", "V2"}, seen
    assert abs(share - SPLIT_EXPECTED) <= SPLIT_TOLERANCE, seen


def test_the_map_shows_the_chain_and_the_database(stack: Stack) -> None:
    """What http://localhost:2000/ draws, read through the X-Ray API beside it."""
    xray = boto3.client(
        "xray",
        endpoint_url=stack.url("XRAY_LOCAL_PORT"),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    expected = {notification_name("V1"), notification_name("V2"), DATABASE[0]}

    def complete() -> list[dict[str, Any]] | None:
        services: list[dict[str, Any]] = xray.get_service_graph(StartTime=0, EndTime=2e9)[
            "Services"
        ]
        nodes = nodes_by_key(services)
        if CLIENT in nodes and USERS in nodes and expected <= callees(services, USERS):
            return services
        return None

    services = poll_until(complete, "the map to show the whole chain", timeout=30, interval=1)
    assert callees(services, CLIENT) == {USERMGMT}
    assert DATABASE in nodes_by_key(services)


def test_down_removes_every_container_network_and_volume(stack: Stack) -> None:
    assert all(stack.leftovers().values()), "the stack is up: containers, network, volume"
    stack.down()
    assert stack.leftovers() == {"container": [], "network": [], "volume": []}
