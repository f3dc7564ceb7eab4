"""Readiness tells the truth about the call chain; liveness stays cheap and always answers.

User management reaches MariaDB and the notification service through relays the test cuts:
readiness answers 503 naming what cannot work while liveness stays 200 (Kubernetes stops
routing to the pod, and does not restart it), then 200 again when both are back.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devstack import (
    USERMGMT_HEALTH,
    USERMGMT_READINESS,
    ProcessGroup,
    poll_until,
    start_notification,
    tracing_env,
)
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import start_usermgmt
from tests.support.tcp_proxy import TcpProxy
from tests.support.udp import SegmentCollector


@pytest.fixture
def relays(
    group: ProcessGroup, database: ScratchDatabase, collector: SegmentCollector
) -> Iterator[tuple[TcpProxy, TcpProxy, httpx.Client]]:
    tracing = tracing_env(collector.address)
    notification = start_notification(group, tracing=tracing)
    assert notification.port is not None
    to_db = TcpProxy((database.host, database.port))
    to_notification = TcpProxy(("127.0.0.1", notification.port))
    usermgmt = start_usermgmt(
        group,
        tracing=tracing,
        database=database,
        db_port=to_db.port,
        notification_port=to_notification.port,
    )
    with httpx.Client(base_url=usermgmt.base_url, timeout=10) as client:
        yield to_db, to_notification, client
    to_db.close()
    to_notification.close()


def test_readiness_names_what_cannot_work_while_liveness_stays_up(
    relays: tuple[TcpProxy, TcpProxy, httpx.Client], collector: SegmentCollector
) -> None:
    to_db, to_notification, client = relays
    ready = client.get(USERMGMT_READINESS)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "UP", "components": {"database": "UP", "notification": "UP"}}

    to_notification.cut()
    not_ready = client.get(USERMGMT_READINESS)
    assert not_ready.status_code == 503
    assert not_ready.headers["Retry-After"] == "5"
    assert not_ready.json()["errors"] == [
        {"field": "notification", "message": "could not be reached"}
    ]
    assert "127.0.0.1" not in not_ready.text  # no internal address to whoever asks
    assert client.get(USERMGMT_HEALTH).status_code == 200

    to_db.cut()
    fields = [error["field"] for error in client.get(USERMGMT_READINESS).json()["errors"]]
    assert fields == ["database", "notification"]
    assert client.get(USERMGMT_HEALTH).status_code == 200

    to_db.restore()
    to_notification.restore()
    poll_until(lambda: client.get(USERMGMT_READINESS).status_code == 200, "readiness to pass again")
    # Probes are not traffic: none of them is on the service map.
    probed = [
        d
        for d in collector.documents
        if d.get("http", {}).get("request", {}).get("url", "").endswith(USERMGMT_READINESS)
    ]
    assert not probed
