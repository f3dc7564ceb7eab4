"""Benchmark the local X-Ray daemon: UDP intake rate and loss, OTLP/HTTP intake, what each
costs the daemon a span, and query latency.

    .venv/bin/python -m scripts.bench_xray_local [--seconds 3] [--rates 5000,10000,20000,40000]

Starts `python -m xray_local` on free loopback ports, sends documents shaped like the
services' (tests/support/xray_documents.py) at rising rates, and reports how many arrived,
as documents and as segments + subsegments (what a span becomes). Then it sends the same
calls as OpenTelemetry spans (tests/support/otel.py), protobuf, in OTLP/HTTP requests of 100
spans, as fast as the daemon answers, and reports spans/s accepted. Then it compares what
the two intakes cost the daemon: the same traces, as X-Ray documents over UDP and as spans
over OTLP/HTTP, at the same spans/s, each into a fresh daemon, in alternating rounds (other
work on the machine comes and goes); the figure is the daemon's CPU time, intake and
analysis, a span. Last it loads 100,000 documents into a fresh daemon and times the X-Ray
API's queries. It prints figures and asserts nothing: the aims (20,000 documents/s with no
loss, OTLP at least as cheap a span as UDP, queries under 100 ms with 100,000 documents
stored) are for a person to compare against.
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
START_ATTEMPTS = 3
# Room for everything a run sends: no eviction.
ROOMY = ("--keep-traces", "100000", "--keep-megabytes", "4096")
# The comparison's rate: one the UDP intake takes without loss even on two busy cores.
COMPARE_DOCUMENTS_PER_SECOND = 5000
# The daemon has finished (intake and the analysis after it) once it used less than this
# share of a core over IDLE_SECONDS (its own ticks cost about 0.4%).
IDLE_SHARE = 0.02
IDLE_SECONDS = 0.3


class Daemon:
    def __init__(self, *flags: str) -> None:
        # A free port can be taken by someone else before the daemon binds it (other tests
        # run on this machine): then start again on other ports.
        for _ in range(START_ATTEMPTS):
            if self._start(flags):
                return
        raise SystemExit(f"the daemon did not start; see {self.log.name}")

    def _start(self, flags: tuple[str, ...]) -> bool:
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
                    return True
            except httpx.HTTPError:
                exited = self.process.poll() is not None
                if exited and "Address already in use" in Path(self.log.name).read_text():
                    return False
                if exited or time.monotonic() > deadline:
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
        """CPU time the daemon has used, user and system: to the nanosecond from schedstat,
        else in clock ticks from stat."""
        try:
            return int(Path(f"/proc/{self.process.pid}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def idle_cpu_seconds(self) -> float:
        """The CPU time used once the daemon has gone idle: everything sent is taken in and
        analysed (traces are analysed a moment after their last document). Watched from
        /proc, so that watching costs the daemon nothing."""
        window: list[tuple[float, float]] = []
        while True:
            now, cpu = time.perf_counter(), self.cpu_seconds()
            window = [(at, used) for at, used in window if now - at <= IDLE_SECONDS]
            window.append((now, cpu))
            first_at, first_cpu = window[0]
            if now - first_at >= IDLE_SECONDS * 0.9 and cpu - first_cpu < IDLE_SHARE * IDLE_SECONDS:
                return cpu
            time.sleep(0.02)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


Call = tuple[str, int, int]  # notification version, SQL statements, notification status


def calls(count: int) -> list[Call]:
    """`count` calls through the chain, as realistic traces have them: V1 and V2, some with
    SQL, a few faults. Both intakes are sent the same calls."""
    rng = random.Random(7)
    return [
        (rng.choice(("V1", "V2")), rng.choice((0, 0, 1, 3)), 500 if rng.random() < 0.02 else 200)
        for _ in range(count)
    ]


def documents_of(made: list[Call], spread_seconds: float = 0.0) -> list[dict[str, Any]]:
    """The calls as the X-Ray SDK's documents (two a call: each service's segment)."""
    rng = random.Random(11)
    now = time.time()
    result: list[dict[str, Any]] = []
    for version, sql_calls, status in made:
        result += chain_trace(
            version=version,
            start=now - rng.random() * spread_seconds,
            sql_calls=sql_calls,
            notification_status=status,
        )
    return result


def documents(count: int, spread_seconds: float = 0.0) -> list[dict[str, Any]]:
    """`count` documents of realistic traces."""
    return documents_of(calls((count + 1) // 2), spread_seconds)[:count]


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
        f"{'drained/s':>10} {'spans/s':>8} {'daemon CPU':>10}"
    )
    daemon = Daemon(*ROOMY)
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
                f"{cpu:>9.0%}"
            )
    finally:
        daemon.stop()


def otlp_bodies(made: list[Call]) -> tuple[list[bytes], int]:
    """The calls as OpenTelemetry spans, in protobuf requests of OTLP_BATCH spans (encoded
    before the clock starts, as an SDK's batch processor would), and how many spans."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import ReadableSpan

    now = time.time()
    spans: list[ReadableSpan] = []
    for version, sql_calls, status in made:
        recorders = ChainRecorders(notification_name(version))
        chain_spans(
            recorders,
            version=version,
            start=now,
            sql_calls=sql_calls,
            notification_status=status,
        )
        spans += recorders.spans
    bodies = [
        encode_spans(spans[index : index + OTLP_BATCH]).SerializeToString()
        for index in range(0, len(spans), OTLP_BATCH)
    ]
    return bodies, len(spans)


def otlp_intake(call_count: int) -> None:
    bodies, span_count = otlp_bodies(calls(call_count))
    print(
        f"\n== OTLP/HTTP intake: {span_count:,} spans ({call_count:,} calls), protobuf, "
        f"{OTLP_BATCH} spans a request, {OTLP_CONNECTIONS} connections ==",
        flush=True,
    )
    daemon = Daemon(*ROOMY)
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
            f"daemon CPU {cpu:.0%}"
        )
        for failure in failures[:3]:
            print(f"  failed: {failure}")
    finally:
        daemon.stop()


def compare(call_count: int, rounds: int) -> None:
    """Daemon CPU a span, UDP against OTLP/HTTP, on equal terms: the same calls, sent at the
    same spans/s (a rate both take without loss), each intake into a fresh daemon (the same
    empty store), its CPU time read from /proc (not wall time, and never by asking the
    daemon) once it has gone idle, so that the analysis of what it took is counted for
    both. Rounds alternate which intake goes first; the medians are compared."""
    made = calls(call_count)
    sent = documents_of(made)
    payloads = [datagram(d) for d in sent]
    per_document = sum(map(entities, sent)) / len(sent)
    bodies, span_count = otlp_bodies(made)
    seconds = len(payloads) / COMPARE_DOCUMENTS_PER_SECOND
    print(
        f"\n== Daemon CPU a span, UDP and OTLP/HTTP: {call_count:,} calls ({len(payloads):,} "
        f"documents, {span_count:,} spans) at {span_count / seconds:,.0f} spans/s, a fresh "
        f"daemon each, {rounds} rounds ==",
        flush=True,
    )
    print(
        f"{'round':>6} {'UDP us/span':>12} {'us/document':>12} {'lost':>5} {'OTLP us/span':>13} "
        f"{'refused':>8} {'OTLP span/UDP span':>19} {'/UDP document':>14}"
    )
    udp_spans, udp_documents, otlp_spans = [], [], []
    for index in range(rounds):
        # Alternate the order, so that a change in the machine's load favours neither.
        if index % 2:
            otlp, refused = _otlp_cost(bodies, seconds)
            udp, received = _udp_cost(payloads, seconds)
        else:
            udp, received = _udp_cost(payloads, seconds)
            otlp, refused = _otlp_cost(bodies, seconds)
        udp_spans.append(udp / (received * per_document) * 1e6)
        udp_documents.append(udp / received * 1e6)
        otlp_spans.append(otlp / (span_count - refused) * 1e6)
        print(
            f"{index + 1:>6} {udp_spans[-1]:>12.1f} {udp_documents[-1]:>12.1f} "
            f"{len(payloads) - received:>5,} {otlp_spans[-1]:>13.1f} {refused:>8,} "
            f"{otlp_spans[-1] / udp_spans[-1]:>19.2f} {otlp_spans[-1] / udp_documents[-1]:>14.2f}"
        )
    udp_span, udp_document = statistics.median(udp_spans), statistics.median(udp_documents)
    otlp_span = statistics.median(otlp_spans)
    print(
        f"{'median':>6} {udp_span:>12.1f} {udp_document:>12.1f} {'':>5} {otlp_span:>13.1f} "
        f"{'':>8} {otlp_span / udp_span:>19.2f} {otlp_span / udp_document:>14.2f}"
    )
    print(
        f"A span over OTLP/HTTP costs the daemon {otlp_span / udp_span:.2f}x a segment or "
        f"subsegment over UDP, and {otlp_span / udp_document:.2f}x a UDP document "
        f"({per_document:.2f} segments and subsegments each)."
    )


def _udp_cost(payloads: list[bytes], seconds: float) -> tuple[float, int]:
    """(daemon CPU seconds, datagrams it read) for `payloads` sent over `seconds`."""
    daemon = Daemon(*ROOMY)
    try:
        before = daemon.cpu_seconds()
        send_paced(daemon.udp, payloads, round(len(payloads) / seconds))
        used = daemon.idle_cpu_seconds() - before
        return used, daemon.stats()["intake"]["datagrams"]
    finally:
        daemon.stop()


def _otlp_cost(bodies: list[bytes], seconds: float) -> tuple[float, int]:
    """(daemon CPU seconds, spans it refused) for `bodies` posted evenly over `seconds`."""
    daemon = Daemon(*ROOMY)
    headers = {"content-type": "application/x-protobuf"}
    try:
        before = daemon.cpu_seconds()
        with httpx.Client(timeout=60) as client:
            start = time.perf_counter()
            for index, body in enumerate(bodies):
                time.sleep(max(0.0, start + index * seconds / len(bodies) - time.perf_counter()))
                client.post(daemon.otlp_url, content=body, headers=headers).raise_for_status()
        used = daemon.idle_cpu_seconds() - before
        return used, daemon.stats()["otlp"]["rejected_spans"]
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
    daemon = Daemon(*ROOMY)
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
        "--otlp-calls",
        type=int,
        default=12_500,
        help="calls sent to the OTLP/HTTP intake as spans (about four spans a call)",
    )
    parser.add_argument(
        "--compare-calls",
        type=int,
        default=5_000,
        help="calls sent each way in each round of the UDP/OTLP comparison",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the comparison")
    parser.add_argument("--skip-intake", action="store_true")
    parser.add_argument("--skip-otlp", action="store_true")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--skip-queries", action="store_true")
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"UDP receive buffer max {Path('/proc/sys/net/core/rmem_max').read_text().strip()} bytes"
    )
    if not args.skip_intake:
        intake([int(rate) for rate in args.rates.split(",")], args.seconds)
    if not args.skip_otlp:
        otlp_intake(args.otlp_calls)
    if not args.skip_compare:
        compare(args.compare_calls, args.rounds)
    if not args.skip_queries:
        queries()


if __name__ == "__main__":
    main()
