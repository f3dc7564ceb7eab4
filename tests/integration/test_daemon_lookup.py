"""A host-name daemon address is looked up once, not for every segment sent.

The SDK's emitter gives `sendto` the host name, so the C library resolves it per segment:
on Kubernetes a DNS query per request. The service runs here with an audit hook (see
tests/support/audit) that reports every lookup of the daemon's name and every `sendto`
given a name instead of an address.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from devstack import tracing_env
from devstack.processes import ProcessGroup
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import start_chain
from tests.support.udp import SegmentCollector
from tests.support.xray import new_trace_id, sampled_header

AUDIT = str(Path(__file__).resolve().parent.parent / "support" / "audit")
REQUESTS = 100


def test_no_lookup_per_segment(
    group: ProcessGroup, database: ScratchDatabase, collector: SegmentCollector
) -> None:
    # "localhost" is the daemon's name here, so nothing else may use it: the notification
    # service is addressed by IP.
    tracing = tracing_env(f"localhost:{collector.port}")
    audited = {"PYTHONPATH": AUDIT, "AUDIT_HOST": "localhost"}
    chain = start_chain(
        group,
        tracing=tracing,
        database=database,
        extra=audited,
        usermgmt_extra={"NOTIFICATION_SERVICE_HOST": "127.0.0.1"},
    )
    usermgmt, notification = chain.processes
    trace_ids = [new_trace_id() for _ in range(REQUESTS)]
    with httpx.Client(base_url=usermgmt.base_url) as client:
        for trace_id in trace_ids:
            assert (
                client.get(
                    "/usermgmt/notification-xray", headers=sampled_header(trace_id)
                ).status_code
                == 200
            )
    wanted = set(trace_ids)
    collector.wait_for(
        lambda docs: sum(d["trace_id"] in wanted for d in docs) == 2 * REQUESTS,
        f"{2 * REQUESTS} segments sent to the daemon by name",
    )
    for process in (usermgmt, notification):
        audit = [line for line in process.log_lines() if line.startswith("AUDIT ")]
        assert audit == ["AUDIT getaddrinfo localhost"], audit  # once, at start-up
