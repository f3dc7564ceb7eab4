"""SMTP unreachable: the backlog of accepted emails is bounded, and on SIGTERM none of them is
lost without an ERROR log line carrying its trace id and a fault on its trace.

The mail server here accepts connections and never greets (a black hole): every send waits
for its SMTP timeout. Until the backlog was bounded, 300 sends got 202 into it; on SIGTERM,
260 were cancelled, logged without a trace id, and 220 showed as clean 202s in X-Ray.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest

from devstack import NOTIFICATION_READINESS, ProcessGroup, start_notification, tracing_env
from tests.support.smtp import SmtpServer
from tests.support.tcp_proxy import TcpProxy
from tests.support.udp import SegmentCollector
from tests.support.xray import new_trace_id, sampled_header, segments, subsegments

pytestmark = pytest.mark.slow

BACKLOG = 10
SENDERS = 2
SENT = 15
MAIL_TIMEOUT_SECONDS = 3


@pytest.fixture
def black_hole(smtp: SmtpServer) -> Iterator[TcpProxy]:
    proxy = TcpProxy(("127.0.0.1", smtp.port))
    proxy.freeze()  # connections are accepted; the server's greeting never comes
    yield proxy
    proxy.close()


def email(number: int) -> dict[str, object]:
    return {"subject": f"mail {number}", "content": "hello", "toEmails": ["to@example.com"]}


def test_a_full_backlog_refuses_and_shutdown_loses_no_mail_silently(
    group: ProcessGroup, collector: SegmentCollector, black_hole: TcpProxy
) -> None:
    notification = start_notification(
        group,
        tracing=tracing_env(collector.address),
        smtp_port=black_hole.port,
        extra={
            "MAIL_BACKLOG": str(BACKLOG),
            "MAIL_CONCURRENCY": str(SENDERS),
            "MAIL_TIMEOUT_SECONDS": str(MAIL_TIMEOUT_SECONDS),
            "SHUTDOWN_GRACE_SECONDS": "1",
        },
    )
    accepted: list[str] = []
    refused: list[httpx.Response] = []
    with httpx.Client(base_url=notification.base_url) as client:
        for number in range(SENT):
            trace_id = new_trace_id()
            response = client.post(
                "/notification/send", json=email(number), headers=sampled_header(trace_id)
            )
            if response.status_code == 202:
                accepted.append(trace_id)
            else:
                refused.append(response)
        readiness = client.get(NOTIFICATION_READINESS)
    assert len(accepted) == BACKLOG
    assert [r.status_code for r in refused] == [503] * (SENT - BACKLOG)
    for response in refused:
        assert response.headers["Retry-After"] == "5"
        assert response.json()["message"] == (
            "Too many emails are waiting to be delivered; try again shortly"
        )
    assert readiness.status_code == 503
    assert readiness.json()["errors"] == [{"field": "mail", "message": "backlog is full"}]

    # SIGTERM: the grace period (1 s) passes with every email still waiting or being sent.
    # uvicorn ends by raising the signal again: killed by SIGTERM, once it has shut down.
    assert notification.stop(timeout=MAIL_TIMEOUT_SECONDS + 10) == -signal.SIGTERM

    log = notification.log_lines()
    causes = []
    for trace_id in accepted:
        lines = [line for line in log if f"trace_id={trace_id}" in line and "not delivered" in line]
        assert len(lines) == 1, (trace_id, lines)
        assert " ERROR " in lines[0]
        [segment] = segments(collector.wait_for_trace(trace_id, 1), "V1-Notification-Microservice")
        assert segment["http"]["response"]["status"] == 202  # what the caller was told
        [smtp_call] = list(subsegments(segment))
        assert smtp_call["name"] == "127.0.0.1" and smtp_call["fault"] is True
        causes.append(smtp_call["cause"]["exceptions"][0]["type"])
    # The two being sent were let finish (timed out waiting for a greeting); the rest dropped.
    assert sorted(causes) == ["SMTPServerDisconnected"] * SENDERS + ["ShutDownFirst"] * (
        BACKLOG - SENDERS
    )
    assert "Traceback" not in notification.log_text()
