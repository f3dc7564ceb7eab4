"""X-Forwarded-Proto and X-Forwarded-For count only from the proxies in FORWARDED_ALLOW_IPS:
from anyone else, the segment records the connection as it is."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from devstack import USERMGMT_HEALTH, ProcessGroup, free_tcp_port, tracing_env
from tests.support.udp import SegmentCollector
from tests.support.xray import new_trace_id, sampled_header

FORGED = {"X-Forwarded-Proto": "javascript", "X-Forwarded-For": "203.0.113.7"}


@pytest.mark.parametrize(
    ("allowed", "scheme", "client_ip"),
    [("127.0.0.1", "https", "203.0.113.7"), ("192.0.2.10", "http", "127.0.0.1")],
    ids=["from-a-trusted-proxy", "from-anyone-else"],
)
def test_forwarding_headers_are_believed_from_configured_proxies_only(
    group: ProcessGroup,
    collector: SegmentCollector,
    tmp_path: Path,
    allowed: str,
    scheme: str,
    client_ip: str,
) -> None:
    usermgmt = group.start_module(
        "usermgmt",
        "usermgmt",
        env={
            **tracing_env(collector.address),
            "SQLITE_PATH": str(tmp_path / "users.db"),
            "NOTIFICATION_SERVICE_PORT": str(free_tcp_port()),
            "FORWARDED_ALLOW_IPS": allowed,
        },
        port=free_tcp_port(),
        ready_path=USERMGMT_HEALTH,
    )
    trace_id = new_trace_id()
    headers = {**sampled_header(trace_id), **FORGED}
    if scheme == "https":
        headers["X-Forwarded-Proto"] = "https"  # a proxy sends a real one
    assert httpx.get(f"{usermgmt.base_url}/usermgmt/users", headers=headers).status_code == 200
    [segment] = collector.wait_for_trace(trace_id, 1)
    request = segment["http"]["request"]
    assert request["url"] == f"{scheme}://127.0.0.1:{usermgmt.port}/usermgmt/users"
    assert request["client_ip"] == client_ip
