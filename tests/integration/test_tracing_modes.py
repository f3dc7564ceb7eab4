"""AWS_XRAY_CONTEXT_MISSING and AWS_XRAY_SDK_ENABLED on the real services.

Whatever the strategy, the services' own untraced work (creating the schema at start-up,
health checks, the background email) runs without tripping it; with tracing off nothing
is sent and no trace header appears. (The strategies' meaning for instrumented calls made
outside any segment is tested on the hooks themselves, in tests/unit/tracing.)
"""

from __future__ import annotations

import httpx
import pytest

from devstack import tracing_env
from devstack.processes import ProcessGroup
from tests.support.mariadb import ScratchDatabase
from tests.support.smtp import SmtpServer
from tests.support.stack import MISSING_SEGMENT, start_chain
from tests.support.udp import SegmentCollector


def exercise(base_url: str, notification_url: str, smtp: SmtpServer, user: str) -> httpx.Response:
    """Health checks, a user (with its email), the call chain: all must succeed."""
    assert httpx.get(f"{base_url}/usermgmt/health-status").status_code == 200
    assert httpx.get(f"{notification_url}/notification/health-status").status_code == 200
    created = httpx.post(
        f"{base_url}/usermgmt/user",
        json={
            "username": user,
            "email": f"{user}@example.com",
            "firstname": "Mode",
            "password": "Pass@123",
        },
    )
    assert created.status_code == 201, created.text
    smtp.wait_for_mail_to(f"{user}@example.com")
    assert httpx.get(f"{base_url}/usermgmt/users").status_code == 200
    response = httpx.get(f"{base_url}/usermgmt/notification-xray")
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("strategy", ["RUNTIME_ERROR", "LOG_ERROR", "IGNORE_ERROR"])
def test_every_context_missing_strategy_runs_the_services(
    group: ProcessGroup,
    database: ScratchDatabase,
    collector: SegmentCollector,
    smtp: SmtpServer,
    strategy: str,
) -> None:
    chain = start_chain(
        group,
        tracing={**tracing_env(collector.address), "AWS_XRAY_CONTEXT_MISSING": strategy},
        database=database,  # a fresh database: the schema is created at start-up
        smtp_port=smtp.port,
    )
    response = exercise(
        chain.usermgmt.base_url, chain.notification.base_url, smtp, f"mode{strategy[:3].lower()}"
    )
    collector.wait_for_trace(response.headers["X-Amzn-Trace-Id"].removeprefix("Root="), 2)
    for process in chain.processes:
        log = process.log_text()
        assert MISSING_SEGMENT not in log
        assert " ERROR " not in log and "Traceback" not in log


def test_tracing_off_sends_nothing_and_adds_no_header(
    group: ProcessGroup, database: ScratchDatabase, collector: SegmentCollector, smtp: SmtpServer
) -> None:
    chain = start_chain(
        group,
        tracing={**tracing_env(collector.address), "AWS_XRAY_SDK_ENABLED": "false"},
        database=database,
        smtp_port=smtp.port,
    )
    received = len(collector.snapshot())
    response = exercise(chain.usermgmt.base_url, chain.notification.base_url, smtp, "modeoff")
    assert "X-Amzn-Trace-Id" not in response.headers
    # The notification service got no trace header either (nothing to continue).
    assert len(collector.snapshot()) == received
    for process in chain.processes:
        assert "X-Ray tracing is off" in process.log_text()
        assert MISSING_SEGMENT not in process.log_text()
