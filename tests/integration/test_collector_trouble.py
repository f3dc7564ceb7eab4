"""TRACING_SDK=otel with a collector that is absent, refuses, answers 503, hangs or does not
resolve: every request succeeds and the service's memory stays flat.

Spans leave from the batch processor's own thread through a bounded queue: a collector in
trouble costs that thread its retries, and once the queue is full new spans are dropped,
never kept. Closing waits a bounded time for what is queued, so the service still exits.
Every request is sampled (local rules), so each one makes spans to drop.
The resident memory of user management is read after a warm-up and after 5,000 more
requests through the whole chain; the growth allowed is generous, as the point is that it
does not grow with the number of requests (unbounded, 5,000 requests of three spans each
would hold ~15,000 spans).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from devstack import SAMPLE_ALL_RULES, ProcessGroup, refusing_port, silent_port
from scripts.soak import rss_mb
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import start_chain
from tests.support.upstream import JsonHandler, serving

WARM_UP = 500
REQUESTS = 5_000
CONCURRENCY = 10
# Far above what a bounded queue of spans can hold (2,048 spans by default, a few MB),
# far below what keeping 5,000 requests' spans would take.
MAX_GROWTH_MB = 25.0
CLEAN_EXITS = (0, -signal.SIGTERM)
CASES = ["absent", "answering-503", "hanging", "unresolvable"]
pytestmark = pytest.mark.slow


class _Unavailable(JsonHandler):
    """503 Service Unavailable to every export."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer(503, {"message": "unavailable"})


@contextmanager
def collector_endpoint(case: str) -> Iterator[str]:
    with ExitStack() as stack:
        if case == "absent":
            port = stack.enter_context(refusing_port())
        elif case == "answering-503":
            port = stack.enter_context(serving(_Unavailable))
        elif case == "hanging":
            port = stack.enter_context(silent_port())
        else:
            yield "http://otel-collector.invalid:4318/v1/traces"
            return
        yield f"http://127.0.0.1:{port}/v1/traces"


async def hammer(base_url: str, count: int) -> list[int]:
    """`count` calls through the chain, `CONCURRENCY` at a time; their statuses."""
    statuses: list[int] = []
    queue = iter(range(count))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in queue:
            response = await client.get("/usermgmt/notification-xray")
            statuses.append(response.status_code)

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    return statuses


@pytest.mark.parametrize("case", CASES)
def test_requests_succeed_and_memory_stays_flat_whatever_the_collector_does(
    case: str, group: ProcessGroup, database: ScratchDatabase
) -> None:
    with collector_endpoint(case) as endpoint:
        tracing = {
            "TRACING_SDK": "otel",
            "XRAY_SAMPLING_RULES": str(SAMPLE_ALL_RULES),
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
        }
        chain = start_chain(group, tracing=tracing, database=database)
        pid = chain.usermgmt.popen.pid
        assert asyncio.run(hammer(chain.usermgmt.base_url, WARM_UP)) == [200] * WARM_UP
        readings = [rss_mb(pid)]
        for _ in range(2):  # two halves: the second shows whether growth goes on
            half = REQUESTS // 2
            assert asyncio.run(hammer(chain.usermgmt.base_url, half)) == [200] * half
            readings.append(rss_mb(pid))
        before, after = readings[0], readings[-1]
        print(f"collector {case}: usermgmt RSS MB after warm-up, 2,500, 5,000: {readings}")
        assert after - before < MAX_GROWTH_MB, readings
        # Closing waits a bounded time for the queued spans: the service still exits on
        # SIGTERM (uvicorn re-raises it once shut down), before the stop's deadline kills it.
        for process in chain.processes:
            assert process.stop() in CLEAN_EXITS, process.log_text()[-2000:]
