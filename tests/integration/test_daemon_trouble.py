"""No daemon, a daemon name that does not resolve, a daemon that refuses: requests go on.

Sending is fire-and-forget over UDP from a cached address, and the SDK's sampler (polling
the daemon's TCP port, as it does when no rules file is given) runs in its own thread, so
none of these may slow or fail a request. Problems are logged once, not per segment.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import httpx
import pytest

from devstack.ports import free_tcp_port, free_udp_port
from devstack.processes import ProcessGroup
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import MISSING_SEGMENT, start_chain
from tests.support.xray import new_trace_id, sampled_header

REQUESTS = 20


@pytest.fixture
def resetting_port() -> Iterator[int]:
    """A TCP port that accepts and immediately resets every connection."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def reset_all() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    threading.Thread(target=reset_all, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def addresses(resetting_port: int) -> dict[str, str]:
    return {
        "absent": f"127.0.0.1:{free_tcp_port()}",
        "unresolvable": "xray-daemon.invalid:2000",
        "refused": f"tcp:127.0.0.1:{resetting_port} udp:127.0.0.1:{free_udp_port()}",
    }


@pytest.mark.parametrize("case", ["absent", "unresolvable", "refused"])
def test_requests_succeed_whatever_happens_to_the_daemon(
    group: ProcessGroup, database: ScratchDatabase, resetting_port: int, case: str
) -> None:
    chain = start_chain(
        group,
        # No rules file: the SDK's centralized sampler polls the (broken) daemon too.
        tracing={"AWS_XRAY_DAEMON_ADDRESS": addresses(resetting_port)[case]},
        database=database,
    )
    base = chain.usermgmt.base_url
    with httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(REQUESTS):
            headers = sampled_header(new_trace_id())  # sampled: a segment is sent every time
            assert client.get("/usermgmt/notification-xray", headers=headers).status_code == 200
            assert client.get("/usermgmt/users", headers=headers).status_code == 200
        created = client.post(
            "/usermgmt/user",
            json={
                "username": f"daemon{case[:4]}",
                "email": f"{case}@example.com",
                "firstname": "D",
                "password": "Pass@123",
            },
        )
        assert created.status_code == 201
    for process in chain.processes:
        log = process.log_lines()
        assert MISSING_SEGMENT not in process.log_text()
        # Said once when it starts (or on each 30 s refresh), never once per segment.
        daemon_warnings = [line for line in log if " WARNING tracing." in line]
        assert len(daemon_warnings) <= 3, daemon_warnings
