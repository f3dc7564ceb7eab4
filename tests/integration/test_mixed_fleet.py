"""A fleet half on the X-Ray SDK, half on OpenTelemetry: still one trace per request.

The X-Amzn-Trace-Id header links them both ways: user management in one mode calls
notification in the other, and the callee's segment hangs directly below the caller's
outbound call, whichever SDK recorded which side.
"""

from __future__ import annotations

import httpx
import pytest

from devstack.processes import ProcessGroup
from tests.support.mariadb import ScratchDatabase
from tests.support.modes import StoredSegments, mode_env
from tests.support.stack import start_chain
from tests.support.xray import segments
from tests.support.xray_local import start_xray_local

REQUESTS = 5
FLEETS = [("xray", "otel"), ("otel", "xray")]


@pytest.mark.parametrize(
    ("caller", "callee"), FLEETS, ids=[f"usermgmt-{a}->notification-{b}" for a, b in FLEETS]
)
def test_every_request_is_one_trace_across_the_sdks(
    caller: str, callee: str, group: ProcessGroup, database: ScratchDatabase
) -> None:
    daemon = start_xray_local(group)
    chain = start_chain(
        group,
        tracing={},
        database=database,
        usermgmt_extra=mode_env(caller, daemon),
        notification_extra=mode_env(callee, daemon),
    )
    stored = StoredSegments(daemon)
    with httpx.Client(base_url=chain.usermgmt.base_url, timeout=30) as client:
        responses = [client.get("/usermgmt/notification-xray") for _ in range(REQUESTS)]
    for response in responses:
        assert response.status_code == 200
        trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
        docs = stored.wait_for_trace(trace_id, 2)
        assert len(docs) == 2, docs
        [usermgmt] = segments(docs, "User-Management-Microservice")
        [notification] = segments(docs, "V1-Notification-Microservice")
        [call] = usermgmt["subsegments"]
        assert call["namespace"] == "remote"
        assert notification["trace_id"] == usermgmt["trace_id"] == trace_id
        assert notification["parent_id"] == call["id"]
        assert notification["annotations"] == {"app_version": "V1"}
    assert stored.problems() == []
