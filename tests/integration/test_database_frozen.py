"""A database that hangs (connections open, nothing answered): health checks answer at once,
every database request ends within its deadline, and the service recovers when it thaws.

Until the deadline existed, 60 parallel GETs on a frozen connection took every worker thread:
health checks waited 20 s and requests never answered. Now DB_MAX_CONCURRENCY of them wait on
the database, the rest are refused at once, and the health checks made while those wait (their
deadline, two seconds) answer as fast as ever.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from devstack import USERMGMT_HEALTH, ProcessGroup, poll_until, tracing_env
from tests.support.burst import Answer, burst
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import start_usermgmt
from tests.support.tcp_proxy import TcpProxy
from tests.support.udp import SegmentCollector

pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 2.0
PARALLEL_GETS = 60
DB_MAX_CONCURRENCY = 10
# As stated: the health check answers within 100 ms while the database is frozen.
HEALTH_WITHIN_SECONDS = 0.1
PROBE_INTERVAL_SECONDS = 0.05
# What the clock may add to a deadline on a loaded machine before the answer is written.
SCHEDULING_SLACK_SECONDS = 0.5


def test_a_frozen_database_never_holds_health_checks_or_requests(
    group: ProcessGroup, database: ScratchDatabase, relay: TcpProxy, collector: SegmentCollector
) -> None:
    usermgmt = start_usermgmt(
        group,
        tracing=tracing_env(collector.address),
        database=database,
        db_port=relay.port,
        extra={
            "DB_TIMEOUT_SECONDS": str(DEADLINE_SECONDS),
            "DB_MAX_CONCURRENCY": str(DB_MAX_CONCURRENCY),
        },
    )
    port = usermgmt.port
    assert port is not None
    api = httpx.Client(base_url=usermgmt.base_url, timeout=30)
    assert api.get("/usermgmt/users").status_code == 200  # connected, schema created

    relay.freeze()
    answers: list[Answer] = []
    bursting = threading.Thread(
        target=lambda: burst(
            "127.0.0.1", port, "/usermgmt/users", PARALLEL_GETS, on_answer=answers.append
        )
    )
    bursting.start()
    # The excess is refused at once; the admitted requests now wait on the frozen database.
    poll_until(
        lambda: len(answers) >= PARALLEL_GETS - DB_MAX_CONCURRENCY, "the excess to be refused"
    )
    health_seconds = []
    with httpx.Client(base_url=usermgmt.base_url) as client:
        client.get(USERMGMT_HEALTH)  # connected first: the timings are the service's
        while bursting.is_alive():  # probed as a kubelet does, at an interval, till the end
            began = time.monotonic()
            assert client.get(USERMGMT_HEALTH).status_code == 200
            health_seconds.append(time.monotonic() - began)
            bursting.join(PROBE_INTERVAL_SECONDS)

    assert {answer.status for answer in answers} == {503}
    for answer in answers:
        assert answer.headers["retry-after"].isdigit()
        assert answer.seconds <= DEADLINE_SECONDS + SCHEDULING_SLACK_SECONDS, answer
    assert len(health_seconds) > 5
    assert max(health_seconds) < HEALTH_WITHIN_SECONDS, sorted(health_seconds)[-5:]

    relay.thaw()
    poll_until(
        lambda: api.get("/usermgmt/users").status_code == 200,
        "user management to use the database again",
    )
    api.close()
    assert usermgmt.is_running()
