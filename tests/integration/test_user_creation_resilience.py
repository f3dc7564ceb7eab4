"""A saved user is never lost to a failure after it: notification down, SMTP down.

Both failures show in the logs and in the trace (a fault on the subsegment of the call that
failed), never in the response to the client, who gets 201.
"""

from __future__ import annotations

import httpx

from devstack import start_notification, tracing_env
from devstack.ports import free_tcp_port
from devstack.processes import ProcessGroup
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import start_usermgmt
from tests.support.udp import SegmentCollector
from tests.support.xray import http_subsegments, segments, subsegments


def create(base_url: str, name: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/usermgmt/user",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "firstname": "R",
            "password": "Pass@123",
        },
    )


def test_smtp_down_keeps_the_user_and_faults_the_smtp_call(
    group: ProcessGroup, database: ScratchDatabase, collector: SegmentCollector
) -> None:
    tracing = tracing_env(collector.address)
    notification = start_notification(group, tracing=tracing, smtp_port=free_tcp_port())
    assert notification.port is not None
    usermgmt = start_usermgmt(
        group, tracing=tracing, database=database, notification_port=notification.port
    )

    response = create(usermgmt.base_url, "nosmtp")
    assert response.status_code == 201
    assert database.query("SELECT username FROM users") == [("nosmtp",)]

    trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    docs = collector.wait_for_trace(trace_id, 2)
    [notify] = segments(docs, "V1-Notification-Microservice")
    assert notify["http"]["response"]["status"] == 202  # the caller was answered
    [smtp_call] = list(subsegments(notify))
    assert smtp_call["name"] == "127.0.0.1" and smtp_call["namespace"] == "remote"
    assert smtp_call["fault"] is True
    assert smtp_call["cause"]["exceptions"][0]["type"] == "ConnectionRefusedError"
    assert "not delivered" in notification.log_text()


def test_notification_down_keeps_the_user_and_faults_the_call(
    group: ProcessGroup, database: ScratchDatabase, collector: SegmentCollector
) -> None:
    usermgmt = start_usermgmt(
        group,
        tracing=tracing_env(collector.address),
        database=database,
    )
    response = create(usermgmt.base_url, "nonotify")
    assert response.status_code == 201
    assert database.query("SELECT username FROM users") == [("nonotify",)]
    [segment] = collector.wait_for_trace(
        response.headers["X-Amzn-Trace-Id"].removeprefix("Root="), 1
    )
    [call] = http_subsegments(segment)
    assert call["fault"] is True
    assert call["cause"]["exceptions"][0]["type"] == "ConnectError"
    assert "was created but the email was not requested" in usermgmt.log_text()

    chain_call = httpx.get(f"{usermgmt.base_url}/usermgmt/notification-xray")
    assert chain_call.status_code == 502
    assert chain_call.json()["message"] == (
        "Notification service unavailable: it could not be reached"
    )
    assert "localhost" not in chain_call.text  # no internal address to a public client
    assert "cannot reach the notification service at http://localhost:" in usermgmt.log_text()
    [failed] = collector.wait_for_trace(
        chain_call.headers["X-Amzn-Trace-Id"].removeprefix("Root="), 1
    )
    assert failed["fault"] is True
