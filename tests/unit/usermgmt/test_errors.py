"""Every failure a client of user management can meet: its status, its JSON body, its trace.

usermgmt.errors maps the service's own failures; servicekit.errors the framework's. A body
over the request size limit will answer 413: that case joins `CLIENT_ERRORS` with the limit.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.ports import refusing_port, silent_port
from tests.support.inprocess import (
    Notification,
    notification_service,
    notification_settings,
    usermgmt_service,
    usermgmt_settings,
)
from tests.support.tracer import tracing_to
from tests.support.udp import SegmentCollector
from tests.support.xray import http_subsegments, sql_subsegments

pytestmark = pytest.mark.anyio
PASSWORD = "Pass@123"
# How long user management waits for a silent notification service before its 504.
SILENCE_SECONDS = 0.5
USER = {
    "username": "ada",
    "email": "ada@example.com",
    "firstname": "Ada",
    "password": PASSWORD,
}


def assert_error_body(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["path"] == response.request.url.path
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    return body


# (method, path, request arguments, status, part of the message); "ada" exists beforehand.
CLIENT_ERRORS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/usermgmt/user/nobody", {}, 404, "User with user name nobody doesn't exist!"),
    ("DELETE", "/usermgmt/user/nobody", {}, 404, "doesn't exist!"),
    ("GET", "/usermgmt/status/nobody", {}, 404, "doesn't exist!"),
    (
        "PUT",
        "/usermgmt/user",
        {"json": {"username": "nobody", "email": "n@example.com", "firstname": "N"}},
        404,
        "doesn't exist!",
    ),
    ("POST", "/usermgmt/user", {"json": USER}, 409, "User with user name ada already exists!"),
    (
        "POST",
        "/usermgmt/user",
        {"json": {**USER, "username": "grace"}},
        409,
        "User with email ada@example.com already exists!",
    ),
    ("POST", "/usermgmt/user", {"json": {**USER, "password": "short"}}, 422, "password:"),
    ("POST", "/usermgmt/user", {"json": {}}, 422, "Invalid request"),
    (
        "POST",
        "/usermgmt/user",
        {
            "content": '{"username": "café"}'.encode("latin-1"),
            "headers": {"Content-Type": "application/json"},
        },
        400,
        "",
    ),
    ("GET", "/usermgmt/nowhere", {}, 404, "Not Found"),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    CLIENT_ERRORS,
    ids=[f"{m} {p} {s}" for m, p, _, s, _ in CLIENT_ERRORS],
)
async def test_a_client_error_has_its_status_and_message(
    api: httpx.AsyncClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    message: str,
) -> None:
    assert (await api.post("/user", json=USER)).status_code == 201
    response = await api.request(method, f"http://usermgmt{path}", **kwargs)
    body = assert_error_body(response, status)
    assert message in body["message"]
    assert PASSWORD not in response.text and "short" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/usermgmt/user", "POST, PUT"),
        ("POST", "/usermgmt/users", "GET"),
        ("POST", "/usermgmt/user/ada", "DELETE, GET"),
        ("DELETE", "/usermgmt/notification-xray", "GET"),
    ],
)
async def test_a_wrong_method_names_the_methods_of_the_path(
    api: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await api.request(method, f"http://usermgmt{path}")
    assert_error_body(response, 405)
    assert response.headers["Allow"] == allowed


async def test_the_database_down_is_a_503_that_recovers_by_itself(tmp_path: Path) -> None:
    """SQLite in a folder that does not exist yet: it cannot open its file until it does."""
    database_dir = tmp_path / "not-yet"
    settings = usermgmt_settings(tmp_path, SQLITE_PATH=database_dir / "users.db")
    async with usermgmt_service(settings) as service:
        response = await service.client.get("/usermgmt/users")
        body = assert_error_body(response, 503)
        assert body["message"] == "The user database is unavailable; try again shortly"
        assert response.headers["Retry-After"] == "5"
        database_dir.mkdir()
        response = await service.client.get("/usermgmt/users")
        assert response.status_code == 200 and response.json() == []


@pytest.fixture
async def failing_notification() -> AsyncIterator[Notification]:
    """Notification V1 with every call failing (fault injection at rate 1, status 500)."""
    settings = notification_settings(
        FAULT_INJECTION_ENABLED=True, FAULT_ERROR_RATE=1, FAULT_ERROR_STATUS=500
    )
    async with notification_service(settings) as service:
        yield service


async def test_the_notification_service_failing_is_a_502(
    tmp_path: Path, failing_notification: Notification
) -> None:
    async with usermgmt_service(
        usermgmt_settings(tmp_path), notification_app=failing_notification.asgi
    ) as service:
        response = await service.client.get("/usermgmt/notification-xray")
    body = assert_error_body(response, 502)
    assert body["message"] == (
        "Notification service unavailable: it answered GET /notification/xray with 500"
    )


async def test_the_notification_service_unreachable_is_a_502(tmp_path: Path) -> None:
    with refusing_port() as port:
        settings = usermgmt_settings(
            tmp_path, NOTIFICATION_SERVICE_HOST="127.0.0.1", NOTIFICATION_SERVICE_PORT=port
        )
        async with usermgmt_service(settings) as service:
            response = await service.client.get("/usermgmt/notification-health-status")
    body = assert_error_body(response, 502)
    # Where the notification service is stays in the log: the client is told what happened.
    assert body["message"] == "Notification service unavailable: it could not be reached"
    assert str(port) not in response.text


async def test_the_notification_service_too_slow_is_a_504(tmp_path: Path) -> None:
    with silent_port() as port:
        settings = usermgmt_settings(
            tmp_path,
            NOTIFICATION_SERVICE_HOST="127.0.0.1",
            NOTIFICATION_SERVICE_PORT=port,
            NOTIFICATION_TIMEOUT_SECONDS=SILENCE_SECONDS,
        )
        async with usermgmt_service(settings) as service:
            response = await service.client.get("/usermgmt/notification-service-info")
    body = assert_error_body(response, 504)
    assert body["message"].endswith("did not answer in time")


# What each failure looks like in the request's trace: the segment's flag, and the call that
# failed marked a fault with its cause.
Check = Callable[[dict[str, Any]], None]


def _database_call_failed(segment: dict[str, Any]) -> None:
    [query] = sql_subsegments(segment)
    assert query["fault"] is True and query["cause"]["exceptions"][0]["type"] == "OperationalError"


def _http_call_failed(exception_type: str) -> Check:
    def check(segment: dict[str, Any]) -> None:
        [call] = http_subsegments(segment)
        assert call["fault"] is True
        assert call["cause"]["exceptions"][0]["type"] == exception_type

    return check


@pytest.mark.parametrize(
    ("case", "status", "flag", "check"),
    [
        ("invalid password", 422, "error", None),
        ("database down", 503, "fault", _database_call_failed),
        ("notification refusing", 502, "fault", _http_call_failed("ConnectError")),
        ("notification silent", 504, "fault", _http_call_failed("ReadTimeout")),
    ],
)
async def test_each_failure_marks_the_trace(
    tmp_path: Path,
    collector: SegmentCollector,
    case: str,
    status: int,
    flag: str,
    check: Check | None,
) -> None:
    with refusing_port() as refusing, silent_port() as silent:
        settings = usermgmt_settings(
            tmp_path,
            tracing=tracing_to(collector),
            SQLITE_PATH=tmp_path / ("missing" if case == "database down" else "") / "users.db",
            NOTIFICATION_SERVICE_HOST="127.0.0.1",
            NOTIFICATION_SERVICE_PORT=silent if case == "notification silent" else refusing,
            NOTIFICATION_TIMEOUT_SECONDS=SILENCE_SECONDS if case == "notification silent" else 5,
        )
        async with usermgmt_service(settings) as service:
            if case == "invalid password":
                response = await service.client.post(
                    "/usermgmt/user", json={**USER, "password": "Secret-without-digit"}
                )
            elif case == "database down":
                response = await service.client.get("/usermgmt/users")
            else:
                response = await service.client.get("/usermgmt/notification-xray")
    assert response.status_code == status
    trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    [segment] = collector.wait_for_trace(trace_id, 1)
    assert segment[flag] is True
    assert segment["http"]["response"]["status"] == status
    if check is not None:
        check(segment)
    assert "Secret-without-digit" not in json.dumps(segment)
