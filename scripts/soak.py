"""Soak: the call chain under steady load for minutes; every trace accounted for, memory watched.

    .venv/bin/python -m scripts.soak                       # 10 minutes at 20 requests a second
    .venv/bin/python -m scripts.soak --seconds 15 --rate 10
    .venv/bin/python -m scripts.soak --minutes 60 --sample-every 60

Starts on free loopback ports the local X-Ray daemon (`python -m xray_local`, its retention
raised so that nothing sent in the run can be evicted), an SMTP sink (`python -m aiosmtpd`,
discarding), notification V1 and user management on a scratch MariaDB database; both services
sample every request (devstack's sample-all rules). Worker threads then send a steady mix:
70% GET /usermgmt/notification-xray, 20% create -> read -> update -> delete of a user of their
own, 5% GET /usermgmt/users, 5% GET /usermgmt/notification-service-info; each request carries
its own `X-Amzn-Trace-Id: Root=...`, so the trace id of every request is known.

The resident memory (VmRSS) of every process is sampled after a warm-up, every
`--sample-every` seconds, and at the end. When the load stops, the daemon is given time to
settle, then every request's trace is fetched through the X-Ray API (boto3) and checked:
user management's segment, finished, with the status the client got; for calls through to
notification, the notification segment whose parent is user management's HTTP subsegment; for
user requests, at least one SQL subsegment (POST /user has both: it asks for an email).

It reports requests sent, traces found/missing/incomplete, RSS start/end/max and growth per
process, and a verdict. It exits 1 when a trace is missing or incomplete or a request failed;
memory is for a person to judge. Not part of `make test` (tests/load/test_soak.py runs it for
15 seconds). Needs MariaDB like the tests (TEST_DB_* variables) and the `test` extra. The
processes' logs are kept in .run/soak/<time>/ (or --log-dir).
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstack import (
    ProcessGroup,
    ServiceProcess,
    free_tcp_port,
    poll_until,
    start_notification,
    start_smtp_sink,
    tracing_env,
)
from tests.support.mariadb import ScratchDatabase, scratch_database
from tests.support.stack import start_usermgmt
from tests.support.xray import http_subsegments, new_trace_id, sql_subsegments
from tests.support.xray_local import LocalXRay, start_xray_local

ROOT = Path(__file__).resolve().parent.parent

LOG_ROOT = ROOT / ".run" / "soak"
USERMGMT = "User-Management-Microservice"
NOTIFICATION_SUFFIX = "-Notification-Microservice"
BATCH_GET_TRACES_MAX = 100  # xray_local's limit per BatchGetTraces call
SETTLE_QUIET_SECONDS = 2.0
SETTLE_TIMEOUT_SECONDS = 60.0
RECHECK_AFTER_SECONDS = 5.0
REQUEST_TIMEOUT_SECONDS = 10.0
WARMUP_MAX_SECONDS = 30.0
PASSWORD = "Soak@1234"
# One worker's cycle of 20 requests: the mix described above, shuffled each time.
DECK = ["xray"] * 14 + ["lifecycle"] * 4 + ["list", "info"]

Document = dict[str, Any]


@dataclass(frozen=True)
class Sent:
    """One request and what its trace must hold."""

    trace_id: str
    method: str
    path: str
    status: int  # 0: no answer
    expected: int
    chain: bool  # user management called notification
    sql: bool  # user management ran SQL

    @property
    def failed(self) -> bool:
        return self.status != self.expected


@dataclass(frozen=True)
class Sample:
    elapsed: float
    requests: int
    rss_mb: dict[str, float]


# --- the stack ------------------------------------------------------------------------------


def start_stack(
    group: ProcessGroup, database: ScratchDatabase, seconds: float, rate: float
) -> tuple[LocalXRay, ServiceProcess]:
    """The daemon, the SMTP sink, notification V1 and user management; returns the daemon and
    user management."""
    xray = start_xray_local(group, *retention_flags(seconds, rate))
    smtp_port = free_tcp_port()
    start_smtp_sink(group, port=smtp_port, name="smtp-sink")  # keeps nothing: flat memory
    tracing = tracing_env(xray.daemon_address)  # sample every request
    notification = start_notification(group, tracing=tracing, smtp_port=smtp_port)
    usermgmt = start_usermgmt(
        group, tracing=tracing, database=database, notification_port=notification.port
    )
    return xray, usermgmt


def retention_flags(seconds: float, rate: float) -> list[str]:
    """Keep more than the run can send, for longer than it lasts. The defaults (10,000
    traces, 60 minutes, 256 MB) would evict: 20 requests a second make 10,000 in 8 minutes."""
    traces = int(seconds * rate * 2) + 10_000
    minutes = int(seconds / 60) + 60
    megabytes = max(256, traces * 16 // 1024)  # 16 KB a trace: several times the real size
    return [
        *("--keep-traces", str(traces)),
        *("--keep-minutes", str(minutes)),
        *("--keep-megabytes", str(megabytes)),
    ]


# --- memory ---------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB; 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sample(group: ProcessGroup, started: float, requests: int) -> Sample:
    rss = {p.name: rss_mb(p.popen.pid) for p in group.processes}
    return Sample(time.monotonic() - started, requests, rss)


def print_sample(label: str, s: Sample) -> None:
    memory = "  ".join(f"{name} {mb:.1f}" for name, mb in s.rss_mb.items())
    print(f"[{s.elapsed:6.0f} s] {label:<8} {s.requests:>7} requests  RSS MB: {memory}", flush=True)


# --- the load -------------------------------------------------------------------------------


class Worker(threading.Thread):
    """Sends DECK's mix at `rate` requests a second until `stop` is set, then deletes the user
    it has open, if any. Every request carries a new trace id and is recorded."""

    def __init__(self, base_url: str, rate: float, offset: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS)
        self.interval, self.offset, self.stop_event = 1 / rate, offset, stop
        self.sent: list[Sent] = []
        self.account: str | None = None
        self.stage = 0

    def run(self) -> None:
        try:
            for kind in self.schedule():
                self.send_one(kind)
            if self.account is not None:
                self.delete()
        finally:
            self.client.close()

    def schedule(self) -> Iterator[str]:
        """The next request's kind, each at its time (or at once when behind)."""
        due = time.monotonic() + self.offset
        while True:
            deck = DECK.copy()
            random.shuffle(deck)
            for kind in deck:
                if self.stop_event.wait(max(0.0, due - time.monotonic())):
                    return
                yield kind
                due = max(due + self.interval, time.monotonic() - self.interval)

    def send_one(self, kind: str) -> None:
        if kind == "xray":
            self.request("GET", "/usermgmt/notification-xray", 200, chain=True)
        elif kind == "info":
            self.request("GET", "/usermgmt/notification-service-info", 200, chain=True)
        elif kind == "list":
            self.request("GET", "/usermgmt/users", 200, sql=True)
        else:
            [self.create, self.read, self.update, self.delete][self.stage]()

    def create(self) -> None:
        self.account = username = f"soak-{secrets.token_hex(7)}"
        body = {
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
            "firstname": "Soak",
            "lastname": "Test",
        }
        status = self.request("POST", "/usermgmt/user", 201, body, chain=True, sql=True)
        self.stage = 1
        if status not in (201, 0):  # refused: nothing to delete
            self.account, self.stage = None, 0

    def read(self) -> None:
        self.request("GET", f"/usermgmt/user/{self.account}", 200, sql=True)
        self.stage = 2

    def update(self) -> None:
        body = {
            "username": self.account,
            "email": f"{self.account}.new@example.com",
            "firstname": "Soaked",
            "lastname": "Test",
        }
        self.request("PUT", "/usermgmt/user", 200, body, sql=True)
        self.stage = 3

    def delete(self) -> None:
        self.request("DELETE", f"/usermgmt/user/{self.account}", 204, sql=True)
        self.account, self.stage = None, 0

    def request(
        self,
        method: str,
        path: str,
        expected: int,
        body: dict[str, Any] | None = None,
        *,
        chain: bool = False,
        sql: bool = False,
    ) -> int:
        trace_id = new_trace_id()
        headers = {"X-Amzn-Trace-Id": f"Root={trace_id}"}
        try:
            status = self.client.request(method, path, json=body, headers=headers).status_code
        except httpx.HTTPError:
            status = 0
        self.sent.append(Sent(trace_id, method, path, status, expected, chain, sql))
        return status


def drive(
    group: ProcessGroup, base_url: str, options: argparse.Namespace
) -> tuple[list[Sent], list[Sample]]:
    """Run the workers for the whole duration, sampling memory; returns what was sent."""
    stop = threading.Event()
    per_worker = options.rate / options.workers
    workers = [Worker(base_url, per_worker, i / options.rate, stop) for i in range(options.workers)]
    started = time.monotonic()
    for worker in workers:
        worker.start()

    def count() -> int:
        return sum(len(w.sent) for w in workers)

    samples = []
    for label, at in sample_times(options.seconds, options.warmup, options.sample_every):
        time.sleep(max(0.0, started + at - time.monotonic()))
        samples.append(sample(group, started, count()))
        print_sample(label, samples[-1])
    stop.set()
    for worker in workers:
        worker.join()
    return [sent for worker in workers for sent in worker.sent], samples


def sample_times(seconds: float, warmup: float, every: float) -> Iterator[tuple[str, float]]:
    yield "start", warmup
    at = warmup + every
    while at < seconds:
        yield "sample", at
        at += every
    yield "end", seconds


# --- the traces -----------------------------------------------------------------------------


def wait_until_settled(xray: LocalXRay) -> None:
    """Until the daemon has received no datagram for SETTLE_QUIET_SECONDS."""
    last = {"count": -1, "since": time.monotonic()}

    def quiet() -> bool:
        count = xray.stats()["intake"]["datagrams"]
        if count != last["count"]:
            last.update(count=count, since=time.monotonic())
        return time.monotonic() - last["since"] >= SETTLE_QUIET_SECONDS

    poll_until(quiet, "the daemon to settle", timeout=SETTLE_TIMEOUT_SECONDS, interval=0.25)


def fetch(xray: LocalXRay, trace_ids: list[str]) -> dict[str, list[Document]]:
    """Each found trace's documents, by trace id, through boto3's BatchGetTraces."""
    client = xray.client()
    found: dict[str, list[Document]] = {}
    for start in range(0, len(trace_ids), BATCH_GET_TRACES_MAX):
        batch = trace_ids[start : start + BATCH_GET_TRACES_MAX]
        for trace in client.batch_get_traces(TraceIds=batch)["Traces"]:
            found[trace["Id"]] = [json.loads(s["Document"]) for s in trace["Segments"]]
    return found


def problem_with(sent: Sent, documents: list[Document]) -> str | None:
    """What is missing from a request's trace, or None when it is complete."""
    real = [d for d in documents if not d.get("inferred")]
    entries = [d for d in real if d.get("name") == USERMGMT and "parent_id" not in d]
    if len(entries) != 1:
        return f"{len(entries)} user management segments"
    [entry] = entries
    if entry.get("in_progress"):
        return "user management's segment is still in progress"
    status = entry.get("http", {}).get("response", {}).get("status")
    if status != sent.status:
        return f"the segment says status {status}, the client got {sent.status}"
    if sent.sql and not sql_subsegments(entry):
        return "no SQL subsegment"
    if sent.chain:
        calls = {sub["id"] for sub in http_subsegments(entry)}
        called = [d for d in real if d.get("name", "").endswith(NOTIFICATION_SUFFIX)]
        linked = [d for d in called if d.get("parent_id") in calls and not d.get("in_progress")]
        if len(called) != 1 or len(linked) != 1:
            return f"{len(called)} notification segments, {len(linked)} finished below its call"
    return None


def check_traces(xray: LocalXRay, answered: list[Sent]) -> tuple[list[Sent], dict[str, str]]:
    """The requests whose trace is missing, and what is wrong with the incomplete ones (by
    trace id); what fails the first look is looked at again, RECHECK_AFTER_SECONDS later."""
    missing, incomplete = _check(xray, answered)
    if missing or incomplete:
        time.sleep(RECHECK_AFTER_SECONDS)
        again = {s.trace_id for s in missing} | set(incomplete)
        missing, incomplete = _check(xray, [s for s in answered if s.trace_id in again])
    return missing, incomplete


def _check(xray: LocalXRay, requests: list[Sent]) -> tuple[list[Sent], dict[str, str]]:
    found = fetch(xray, [s.trace_id for s in requests])
    missing = [s for s in requests if s.trace_id not in found]
    incomplete = {}
    for sent in requests:
        if sent.trace_id in found and (problem := problem_with(sent, found[sent.trace_id])):
            incomplete[sent.trace_id] = f"{sent.method} {sent.path}: {problem}"
    return missing, incomplete


# --- the report -----------------------------------------------------------------------------


def report(
    sent: list[Sent],
    missing: list[Sent],
    incomplete: dict[str, str],
    samples: list[Sample],
    daemon: dict[str, Any],
    users_left: int,
) -> bool:
    """Print the report; True when no trace was lost and no request failed."""
    failed = [s for s in sent if s.failed]
    answered = [s for s in sent if s.status]
    complete = len(answered) - len(missing) - len(incomplete)
    elapsed = samples[-1].elapsed
    print(
        f"\nrequests sent: {len(sent)} in {elapsed:.0f} s ({len(sent) / elapsed:.1f}/s), "
        f"{len(failed)} failed, users left in the database: {users_left}"
    )
    for s in failed[:10]:
        print(f"  failed: {s.method} {s.path} -> {s.status or 'no answer'} ({s.trace_id})")
    print(
        f"traces: {len(answered)} checked, {complete} complete, {len(missing)} missing, "
        f"{len(incomplete)} incomplete"
    )
    for s in missing[:10]:
        print(f"  missing: {s.trace_id} {s.method} {s.path}")
    for trace_id, problem in list(incomplete.items())[:10]:
        print(f"  incomplete: {trace_id} {problem}")
    store, intake = daemon["store"], daemon["intake"]
    print(
        f"daemon: {store['traces']} traces stored (~{store['approximate_bytes'] / 2**20:.0f} "
        f"MB), {store['traces_evicted']} evicted, rejected datagrams: {intake['rejected'] or 0}"
    )
    print_memory(samples)
    ok = not (missing or incomplete or failed)
    verdict = "OK: no trace lost" if ok else "FAIL: traces lost or requests failed"
    print(f"verdict: {verdict}; memory is for you to judge (RSS growth above)")
    return ok


def print_memory(samples: list[Sample]) -> None:
    first, last = samples[0], samples[-1]
    print(f"RSS (MB) from {first.elapsed:.0f} s (after warm-up) to {last.elapsed:.0f} s:")
    print(f"  {'process':<18} {'start':>8} {'end':>8} {'max':>8} {'growth':>8}")
    for name, start in first.rss_mb.items():
        end = last.rss_mb[name]
        peak = max(s.rss_mb[name] for s in samples)
        print(f"  {name:<18} {start:>8.1f} {end:>8.1f} {peak:>8.1f} {end - start:>+8.1f}")


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    duration = parser.add_mutually_exclusive_group()
    duration.add_argument("--minutes", type=float, default=10.0, help="default 10")
    duration.add_argument("--seconds", type=float, help="instead of --minutes")
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second (20)")
    parser.add_argument("--workers", type=int, default=4, help="sending threads (4)")
    parser.add_argument("--log-dir", type=Path, help="the processes' logs (.run/soak/<time>)")
    parser.add_argument("--sample-every", type=float, default=30.0, help="RSS, seconds (30)")
    parser.add_argument(
        "--warmup",
        type=float,
        help="seconds before the first RSS sample "
        f"(a fifth of the run, at most {WARMUP_MAX_SECONDS:.0f})",
    )
    options = parser.parse_args(argv)
    options.seconds = options.seconds or options.minutes * 60
    if options.warmup is None:
        options.warmup = min(WARMUP_MAX_SECONDS, options.seconds / 5)
    if not (0 <= options.warmup < options.seconds and options.rate > 0 and options.workers > 0):
        parser.error("need 0 <= --warmup < the duration, a positive --rate and --workers")
    return options


def soak(options: argparse.Namespace, log_dir: Path) -> bool:
    with scratch_database("usermgmt_soak") as database, ProcessGroup(log_dir) as group:
        xray, usermgmt = start_stack(group, database, options.seconds, options.rate)
        print(
            f"soak: {options.seconds:.0f} s at {options.rate:g} requests/s, "
            f"warm-up {options.warmup:.0f} s; logs in {log_dir}",
            flush=True,
        )
        sent, samples = drive(group, usermgmt.base_url, options)
        wait_until_settled(xray)
        missing, incomplete = check_traces(xray, [s for s in sent if s.status])
        users_left = len(database.query("SELECT username FROM users"))
        return report(sent, missing, incomplete, samples, xray.stats(), users_left)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    log_dir = options.log_dir or LOG_ROOT / time.strftime("%Y%m%d-%H%M%S")
    return 0 if soak(options, log_dir) else 1


if __name__ == "__main__":
    sys.exit(main())
