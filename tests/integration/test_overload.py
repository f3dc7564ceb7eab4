"""A burst far beyond capacity: the excess is refused at once, and the chain works afterwards.

User management admits MAX_CONCURRENT_REQUESTS requests at once and NOTIFICATION_MAX_CONNECTIONS
calls to notification; everything past that is a 503 with Retry-After, at once. Once the
burst is over, the call chain answers 200 again in the same processes, with either connection
policy (httpx's pool, which cancelled calls could wedge for good, is in use with both).
"""

from __future__ import annotations

import collections

import httpx
import pytest

from devstack import USERMGMT_READINESS, ProcessGroup, poll_until, tracing_env
from tests.support.burst import Answer, burst
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import start_chain
from tests.support.udp import SegmentCollector

pytestmark = pytest.mark.slow

CAPACITY = 40  # requests at once, and calls at once to notification
BURST = 600
CHAIN = "/usermgmt/notification-xray"
NOTIFICATION_TIMEOUT_SECONDS = 5.0


@pytest.mark.parametrize("policy", ["keep-alive", "per-request"])
def test_a_burst_is_shed_at_once_and_the_chain_recovers(
    group: ProcessGroup, database: ScratchDatabase, collector: SegmentCollector, policy: str
) -> None:
    settings = {
        "MAX_CONCURRENT_REQUESTS": str(CAPACITY),
        "NOTIFICATION_MAX_CONNECTIONS": str(CAPACITY),
        "NOTIFICATION_CONNECTION_POLICY": policy,
        "NOTIFICATION_TIMEOUT_SECONDS": str(NOTIFICATION_TIMEOUT_SECONDS),
    }
    chain = start_chain(
        group, tracing=tracing_env(collector.address), database=database, extra=settings
    )
    assert chain.usermgmt.port is not None

    answers = burst("127.0.0.1", chain.usermgmt.port, CHAIN, BURST)
    by_status = collections.Counter(answer.status for answer in answers)
    assert set(by_status) <= {200, 503}, by_status  # no 504 after waiting, no dropped connection
    assert by_status[200] >= CAPACITY, by_status
    refused = [answer for answer in answers if answer.status == 503]
    assert refused, "nothing was refused: the burst was queued"
    for answer in refused:
        assert answer.headers["retry-after"].isdigit()
        assert answer.headers["content-type"] == "application/json"
    # Refused at once, not after a wait for a connection that ends in a timeout.
    assert max(answer.seconds for answer in refused) < NOTIFICATION_TIMEOUT_SECONDS, slowest(
        refused
    )

    with httpx.Client(base_url=chain.usermgmt.base_url, timeout=30) as client:
        poll_until(
            lambda: all(client.get(CHAIN).status_code == 200 for _ in range(16)),
            "the chain to answer 200 again after the burst",
            timeout=10,
        )
        ready = client.get(USERMGMT_READINESS)
    assert ready.status_code == 200, ready.text
    assert all(process.is_running() for process in chain.processes)
    assert "Traceback" not in chain.usermgmt.log_text()


def slowest(answers: list[Answer]) -> str:
    worst = max(answers, key=lambda answer: answer.seconds)
    return f"slowest refusal took {worst.seconds:.2f}s: {worst.body[:200]!r}"
