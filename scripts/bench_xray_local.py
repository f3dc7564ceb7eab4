"""Benchmark the local X-Ray daemon: UDP intake rate and loss, OTLP/HTTP intake, and query
latency.

    .venv/bin/python -m scripts.bench_xray_local [--seconds 3] [--rates 5000,10000,20000,40000]

Starts `python -m xray_local` on free loopback ports, sends documents shaped like the
services' (tests/support/xray_documents.py) at rising rates, and reports how many arrived,
as documents and as segments + subsegments (what a span becomes). Then it sends the same
calls as OpenTelemetry spans (tests/support/otel.py), protobuf, in OTLP/HTTP requests of 100
spans, as fast as the daemon answers, and reports spans/s accepted. Last it loads 100,000
documents into a fresh daemon and times the X-Ray API's queries. It prints figures and
asserts nothing: the aims (20,000 documents/s with no loss, OTLP spans/s at least UDP's,
queries under 100 ms with 100,000 documents stored) are for a person to compare against.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from devstack import free_tcp_port, free_udp_port
from tests.support.otel import ChainRecorders, chain_spans
from tests.support.xray_documents import chain_trace, datagram, notification_name

QUERY_DOCUMENTS = 100_000
QUERY_REPEATS = 15
LOAD_BATCH = 500
SETTLE_SECONDS = 1.0
OTLP_BATCH = 100  # spans per OTLP/HTTP request
OTLP_CONNECTIONS = 2


class Daemon:
    def __init__(self, *flags: str) -> None:
        self.udp, self.tcp, self.otlp = free_udp_port(), free_tcp_port(), free_tcp_port()
        self.url = f"http://127.0.0.1:{self.tcp}"
        self.otlp_url = f"http://127.0.0.1:{self.otlp}/v1/traces"
        self.log = tempfile.NamedTemporaryFile(
            prefix="xray-local-bench-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xray_local",
                "-b",
                f"127.0.0.1:{self.udp}",
                "-t",
                f"127.0.0.1:{self.tcp}",
                "--bind-otlp",
                f"127.0.0.1:{self.otlp}",
                *flags,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"the daemon did not start; see {self.log.name}") from None
                time.sleep(0.05)

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.url}/stats", timeout=30).json()
        return result

    def rss_megabytes(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def documents(count: int, spread_seconds: float = 0.0) -> list[dict[str, Any]]:
    """`count` documents of realistic traces: V1 and V2, some with SQL, a few faults."""
    rng = random.Random(7)
    now = time.time()
    result: list[dict[str, Any]] = []
    while len(result) < count:
        result.extend(
            chain_trace(
                version=rng.choice(("V1", "V2")),
                start=now - rng.random() * spread_seconds,
                sql_calls=rng.choice((0, 0, 1, 3)),
                notification_status=500 if rng.random() < 0.02 else 200,
            )
        )
    return result[:count]


def send_paced(port: int, payloads: list[bytes], rate: int) -> float:
    """Send at `rate` datagrams a second, in 1 ms slots; returns the achieved rate."""
    target = ("127.0.0.1", port)
    per_slot = max(1, rate // 1000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        start = time.perf_counter()
        for index in range(0, len(payloads), per_slot):
            for payload in payloads[index : index + per_slot]:
                sock.sendto(payload, target)
            due = start + (index + per_slot) / rate
            while time.perf_counter() < due:
                pass
        return len(payloads) / (time.perf_counter() - start)


def settled_count(daemon: Daemon, expected: int) -> tuple[int, float]:
    """Datagrams read so far, once the count reaches `expected` or stops moving; also when."""
    last, last_change = -1, time.perf_counter()
    while True:
        count = daemon.stats()["intake"]["datagrams"]
        now = time.perf_counter()
        if count != last:
            last, last_change = count, now
        if count >= expected or now - last_change > SETTLE_SECONDS:
            return count, last_change
        time.sleep(0.02)


def entities(document: dict[str, Any]) -> int:
    """A document's segment and subsegments: what one span each becomes."""
    return 1 + sum(entities(child) for child in document.get("subsegments", []))


def intake(rates: list[int], seconds: float) -> None:
    print(f"\n== UDP intake: {seconds:g} s at each rate, documents of ~1-2 KB ==")
    print(
        f"{'target/s':>9} {'sent/s':>9} {'sent':>8} {'received':>9} {'lost':>7} {'loss':>7} "
        f"{'drained/s':>10} {'spans/s':>8} {'daemon CPU':>10} {'CPU/span':>9}"
    )
    daemon = Daemon("--keep-traces", "100000", "--keep-megabytes", "4096")
    try:
        for rate in rates:
            sent_documents = documents(int(rate * seconds))
            per_document = sum(map(entities, sent_documents)) / len(sent_documents)
            payloads = [datagram(d) for d in sent_documents]
            before = daemon.stats()["intake"]["datagrams"]
            cpu_before = daemon.cpu_seconds()
            started = time.perf_counter()
            sent_rate = send_paced(daemon.udp, payloads, rate)
            count, finished = settled_count(daemon, before + len(payloads))
            received = count - before
            lost = len(payloads) - received
            drained = received / max(finished - started, 1e-9)
            cpu = (daemon.cpu_seconds() - cpu_before) / max(finished - started, 1e-9)
            print(
                f"{rate:>9,} {sent_rate:>9,.0f} {len(payloads):>8,} {received:>9,} {lost:>7,} "
                f"{lost / len(payloads):>7.2%} {drained:>10,.0f} {drained * per_document:>8,.0f} "
                f"{cpu:>9.0%} {_per_span(cpu * (finished - started), received * per_document)}"
            )
    finally:
        daemon.stop()


def _per_span(cpu_seconds: float, spans: float) -> str:
    """Daemon CPU time a span (or a segment or subsegment) costs: the figure to compare
    between intakes, as it holds whether or not the sender or the machine was the limit."""
    return f"{cpu_seconds / max(spans, 1) * 1e6:>6.1f} us"


def otlp_bodies(span_count: int) -> list[bytes]:
    """The calls `documents` makes, as OpenTelemetry spans, in protobuf requests of
    OTLP_BATCH spans (encoded before the clock starts, as an SDK's batch processor would)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import ReadableSpan

    rng = random.Random(7)
    now = time.time()
    spans: list[ReadableSpan] = []
    while len(spans) < span_count:
        version = rng.choice(("V1", "V2"))
        recorders = ChainRecorders(notification_name(version))
        chain_spans(
            recorders,
            version=version,
            start=now,
            sql_calls=rng.choice((0, 0, 1, 3)),
            notification_status=500 if rng.random() < 0.02 else 200,
        )
        spans += recorders.spans
    spans = spans[:span_count]
    return [
        encode_spans(spans[index : index + OTLP_BATCH]).SerializeToString()
        for index in range(0, len(spans), OTLP_BATCH)
    ]


def otlp_intake(span_count: int) -> None:
    print(
        f"\n== OTLP/HTTP intake: {span_count:,} spans, protobuf, {OTLP_BATCH} spans a request, "
        f"{OTLP_CONNECTIONS} connections ==",
        flush=True,
    )
    bodies = otlp_bodies(span_count)
    daemon = Daemon("--keep-traces", "100000", "--keep-megabytes", "4096")
    failures: list[str] = []

    def post(share: list[bytes]) -> None:
        headers = {"content-type": "application/x-protobuf"}
        with httpx.Client(timeout=60) as client:
            for body in share:
                answer = client.post(daemon.otlp_url, content=body, headers=headers)
                if answer.status_code != 200 or answer.content:  # content: a partial success
                    failures.append(f"{answer.status_code} {answer.content[:200]!r}")

    try:
        cpu_before = daemon.cpu_seconds()
        started = time.perf_counter()
        workers = [
            threading.Thread(target=post, args=(bodies[index::OTLP_CONNECTIONS],))
            for index in range(OTLP_CONNECTIONS)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        cpu = (daemon.cpu_seconds() - cpu_before) / elapsed
        otlp = daemon.stats()["otlp"]
        print(
            f"{otlp['spans']:,} spans in {len(bodies):,} requests in {elapsed:.2f} s: "
            f"{otlp['spans'] / elapsed:,.0f} spans/s accepted, {otlp['documents']:,} documents "
            f"stored, {otlp['rejected_spans']:,} rejected, {len(failures)} requests failed; "
            f"daemon CPU {cpu:.0%}, {_per_span(elapsed * cpu, otlp['spans']).strip()} a span"
        )
        for failure in failures[:3]:
            print(f"  failed: {failure}")
    finally:
        daemon.stop()


def timed(client: httpx.Client, path: str, body: dict[str, Any]) -> float:
    """Milliseconds for one API call, from request to parsed answer."""
    start = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed * 1000


def queries() -> None:
    print(f"\n== Queries with {QUERY_DOCUMENTS:,} documents stored (traces spread over 10 min) ==")
    daemon = Daemon("--keep-traces", "100000", "--keep-megabytes", "4096")
    try:
        loaded = documents(QUERY_DOCUMENTS, spread_seconds=600)
        with httpx.Client(base_url=daemon.url, timeout=120) as client:
            start = time.perf_counter()
            for index in range(0, len(loaded), LOAD_BATCH):
                batch = [json.dumps(d) for d in loaded[index : index + LOAD_BATCH]]
                client.post(
                    "/TraceSegments", json={"TraceSegmentDocuments": batch}
                ).raise_for_status()
            load_seconds = time.perf_counter() - start
            stats = daemon.stats()["store"]
            print(
                f"loaded {stats['documents']:,} documents in {stats['traces']:,} traces through "
                f"PutTraceSegments in {load_seconds:.1f} s ({len(loaded) / load_seconds:,.0f}/s); "
                f"daemon RSS {daemon.rss_megabytes():,.0f} MB (its own estimate of the store: "
                f"{stats['approximate_bytes'] / 2**20:,.0f} MB, what --keep-megabytes bounds)"
            )
            now = time.time()
            window = {"StartTime": now - 900, "EndTime": now + 60}
            ids = [d["trace_id"] for d in loaded[:10:2]]
            cases: list[tuple[str, str, dict[str, Any]]] = [
                ("GetServiceGraph, 15 min", "/ServiceGraph", window),
                (
                    "GetServiceGraph, 1 min",
                    "/ServiceGraph",
                    {"StartTime": now - 60, "EndTime": now},
                ),
                ("GetTraceSummaries, no filter", "/TraceSummaries", window),
                (
                    '... annotation.app_version = "V2"',
                    "/TraceSummaries",
                    {**window, "FilterExpression": 'annotation.app_version = "V2"'},
                ),
                (
                    '... service("usermgmt@mysql") AND responsetime > 0.01',
                    "/TraceSummaries",
                    {
                        **window,
                        "FilterExpression": 'service("usermgmt@mysql") AND responsetime > 0.01',
                    },
                ),
                (
                    "... fault (2% of traces)",
                    "/TraceSummaries",
                    {**window, "FilterExpression": "fault"},
                ),
                (
                    "... service() { fault }",
                    "/TraceSummaries",
                    {**window, "FilterExpression": "service() { fault }"},
                ),
                (
                    "... rootcause.fault.service { last } (root causes)",
                    "/TraceSummaries",
                    {**window, "FilterExpression": "rootcause.fault.service { last }"},
                ),
                (
                    "... TimeRangeType Event",
                    "/TraceSummaries",
                    {**window, "TimeRangeType": "Event"},
                ),
                ("BatchGetTraces, 5 traces", "/Traces", {"TraceIds": ids}),
                ("GetTraceGraph, 5 traces", "/TraceGraph", {"TraceIds": ids}),
            ]
            print(f"{'query':<56} {'first ms':>9} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
            for label, path, body in cases:
                first = timed(client, path, body)
                times = sorted(timed(client, path, body) for _ in range(QUERY_REPEATS))
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                print(
                    f"{label:<56} {first:>9.1f} {statistics.median(times):>10.1f} {p95:>8.1f} "
                    f"{times[-1]:>8.1f}"
                )
    finally:
        daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="sending time per rate")
    parser.add_argument(
        "--rates",
        default="5000,10000,20000,30000,40000",
        help="comma-separated send rates, documents per second",
    )
    parser.add_argument(
        "--otlp-spans", type=int, default=50_000, help="spans sent to the OTLP/HTTP intake"
    )
    parser.add_argument("--skip-intake", action="store_true")
    parser.add_argument("--skip-otlp", action="store_true")
    parser.add_argument("--skip-queries", action="store_true")
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"UDP receive buffer max {Path('/proc/sys/net/core/rmem_max').read_text().strip()} bytes"
    )
    if not args.skip_intake:
        intake([int(rate) for rate in args.rates.split(",")], args.seconds)
    if not args.skip_otlp:
        otlp_intake(args.otlp_spans)
    if not args.skip_queries:
        queries()


if __name__ == "__main__":
    main()
