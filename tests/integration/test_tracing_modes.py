"""AWS_XRAY_CONTEXT_MISSING, AWS_XRAY_SDK_ENABLED and OTEL_SDK_DISABLED on the real services,
in both tracing modes (TRACING_SDK=otel accepts AWS_XRAY_CONTEXT_MISSING, with no meaning).

Whatever the strategy, the services' own untraced work (creating the schema at start-up,
health checks, the background email) runs without tripping it; with tracing off nothing
is sent and no trace header appears. (The strategies' meaning for instrumented calls made
outside any segment is tested on the hooks themselves, in tests/unit/tracing.)
"""

from __future__ import annotations

import httpx
import pytest

from devstack.processes import ProcessGroup
from tests.support.mariadb import ScratchDatabase
from tests.support.modes import MODES, StoredSegments, mode_env
from tests.support.smtp import SmtpServer
from tests.support.stack import MISSING_SEGMENT, start_chain
from tests.support.xray_local import start_xray_local


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


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("strategy", ["RUNTIME_ERROR", "LOG_ERROR", "IGNORE_ERROR"])
def test_every_context_missing_strategy_runs_the_services(
    group: ProcessGroup,
    database: ScratchDatabase,
    smtp: SmtpServer,
    strategy: str,
    mode: str,
) -> None:
    daemon = start_xray_local(group)
    chain = start_chain(
        group,
        tracing={**mode_env(mode, daemon), "AWS_XRAY_CONTEXT_MISSING": strategy},
        database=database,  # a fresh database: the schema is created at start-up
        smtp_port=smtp.port,
    )
    user = f"mode{strategy[:3].lower()}{mode}"
    response = exercise(chain.usermgmt.base_url, chain.notification.base_url, smtp, user)
    trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    StoredSegments(daemon).wait_for_trace(trace_id, 2)
    for process in chain.processes:
        log = process.log_text()
        assert MISSING_SEGMENT not in log
        assert " ERROR " not in log and "Traceback" not in log


OFF = {
    "xray": ("xray", {"AWS_XRAY_SDK_ENABLED": "false"}),
    "otel-xray-variable": ("otel", {"AWS_XRAY_SDK_ENABLED": "false"}),
    "otel-otel-variable": ("otel", {"OTEL_SDK_DISABLED": "true"}),
}


@pytest.mark.parametrize("case", OFF)
def test_tracing_off_sends_nothing_and_adds_no_header(
    group: ProcessGroup, database: ScratchDatabase, smtp: SmtpServer, case: str
) -> None:
    mode, off = OFF[case]
    daemon = start_xray_local(group)
    chain = start_chain(
        group, tracing={**mode_env(mode, daemon), **off}, database=database, smtp_port=smtp.port
    )
    response = exercise(chain.usermgmt.base_url, chain.notification.base_url, smtp, f"off{mode}")
    assert "X-Amzn-Trace-Id" not in response.headers
    # The notification service got no trace header either (nothing to continue), and the
    # daemon got nothing at all, by either way in.
    stats = daemon.stats()
    assert (stats["intake"]["datagrams"], stats["otlp"]["requests"]) == (0, 0)
    for process in chain.processes:
        assert "tracing is off" in process.log_text()
        assert MISSING_SEGMENT not in process.log_text()
