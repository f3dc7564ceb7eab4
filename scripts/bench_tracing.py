"""Benchmark the cost of tracing: the call chain under wrk with X-Ray, without, and with OTel.

    .venv/bin/python -m scripts.bench_tracing [--rounds 3] [--seconds 10] [--connections 16]
    .venv/bin/python -m scripts.bench_tracing --short      # CI: one short round

Loads GET /usermgmt/notification-xray (user management on uvicorn -> httpx -> notification
V1, user management over MariaDB) with wrk on loopback. Each mode runs on freshly started
processes: a warm-up, a saturated run (`wrk -t1 -c<connections> --latency`: req/s, and a
p50/p99 that are mostly time spent queued) and an unloaded run (`-c1`: what one request
takes). The modes:

- X-Ray on: services/tracing as shipped, every request sampled, segments sent over UDP to a
  sink that counts them (so the table shows tracing really happened);
- tracing off: AWS_XRAY_SDK_ENABLED=false;
- OTel mode, tuned: the project's own OpenTelemetry mode (TRACING_SDK=otel): the services'
  tracing hooks recording a span per request and per call (none for ASGI receive/send
  events), every request sampled by the same local rules, spans batched (OTEL_BSP_*) as
  OTLP/HTTP to a local sink that counts them;
- OTel peer, untuned: the same services run by scripts/bench/otel_service.py, traced with
  OpenTelemetry's FastAPI and httpx instrumentations with their defaults, the X-Ray
  propagator and ID generator, every request sampled, OTLP/HTTP batches to the same sink;
- X-Ray on, per-request connections: NOTIFICATION_CONNECTION_POLICY=per-request, user
  management opening a connection for every call (what splits a canary per request).

The modes alternate within each round, in a rotating order, so drift on a shared machine hits
them all alike; each figure is the median over the rounds. It prints a Markdown table and
whether the targets hold (X-Ray costs <= 5% of throughput and < 1 ms at p50 versus off, and
less than the untuned peer; the tuned OTel mode <= 15% and < 1 ms), and asserts nothing:
the exit status is 0 whatever the figures.
Needs wrk (apt-get install wrk) and MariaDB/MySQL at 127.0.0.1:3306 (TEST_DB_* elsewhere).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scripts.bench.measure import Load, Run, measure
from scripts.bench.modes import OFF, OTEL, OTEL_PEER, XRAY, XRAY_PER_REQUEST, Mode, Sinks
from scripts.bench.report import problems, run_line, summarise, table, verdicts
from scripts.bench.sinks import OtlpSink, UdpSink
from scripts.bench.wrk import require_wrk
from tests.support.mariadb import scratch_database

DEFAULT_ROUNDS = 3
DEFAULT_SECONDS = 10.0
DEFAULT_WARMUP_SECONDS = 3.0
DEFAULT_CONNECTIONS = 16
DEFAULT_LATENCY_SECONDS = 5.0
SHORT_SECONDS = 3.0
SHORT_WARMUP_SECONDS = 1.0
SHORT_LATENCY_SECONDS = 2.0
NOTES = """
req/s, p50, p99: saturated, wrk -c{connections}. Unloaded: wrk -c{latency}, what one request
takes. CPU/request: each service's CPU time over the saturated run / its requests.
Segments: each request sends 2; spans: the OTel mode sends 3 (a server span per service and
the call's client span), the peer more (FastAPI's receive/send spans); a few more than
expected arrive when requests in flight as wrk stops are served but not counted by wrk."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--short", action="store_true", help="CI: 1 round, a few seconds per mode, same table"
    )
    parser.add_argument("--rounds", type=int, help=f"rounds of every mode ({DEFAULT_ROUNDS})")
    parser.add_argument("--seconds", type=float, help=f"wrk time per run ({DEFAULT_SECONDS:g})")
    parser.add_argument(
        "--warmup", type=float, help=f"wrk warm-up time per run ({DEFAULT_WARMUP_SECONDS:g})"
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=DEFAULT_CONNECTIONS,
        help=f"wrk's open connections for the saturated run ({DEFAULT_CONNECTIONS})",
    )
    parser.add_argument(
        "--latency-seconds",
        type=float,
        help=f"wrk time of the unloaded latency run ({DEFAULT_LATENCY_SECONDS:g})",
    )
    parser.add_argument(
        "--latency-connections",
        type=int,
        default=1,
        help="wrk's connections for the unloaded latency run (1)",
    )
    parser.add_argument(
        "--modes",
        help="comma-separated subset of the modes (off is always run): "
        + ", ".join(m.key for m in all_modes()),
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.short else DEFAULT_ROUNDS
    if args.seconds is None:
        args.seconds = SHORT_SECONDS if args.short else DEFAULT_SECONDS
    if args.warmup is None:
        args.warmup = SHORT_WARMUP_SECONDS if args.short else DEFAULT_WARMUP_SECONDS
    if args.latency_seconds is None:
        args.latency_seconds = SHORT_LATENCY_SECONDS if args.short else DEFAULT_LATENCY_SECONDS
    numbers = (
        args.rounds,
        args.seconds,
        args.warmup,
        args.connections,
        args.latency_seconds,
        args.latency_connections,
    )
    if min(numbers) < 1:
        parser.error("every count and duration must be at least 1")
    return args


def all_modes() -> list[Mode]:
    return [XRAY, OFF, OTEL, OTEL_PEER, XRAY_PER_REQUEST]


def chosen_modes(selection: str | None) -> list[Mode]:
    modes = all_modes()
    if not selection:
        return modes
    keys = selection.split(",")
    unknown = set(keys) - {m.key for m in modes}
    if unknown:
        raise SystemExit(f"unknown modes {sorted(unknown)}; choose from {[m.key for m in modes]}")
    # Off is every comparison's baseline.
    return [m for m in modes if m.key in keys or m is OFF]


def rotated(modes: Sequence[Mode], round_number: int) -> list[Mode]:
    """Round 1 runs the modes in order, round 2 starts with the second one, and so on."""
    shift = (round_number - 1) % len(modes)
    return [*modes[shift:], *modes[:shift]]


def describe_machine(args: argparse.Namespace) -> str:
    wrk_version = subprocess.run(
        [require_wrk(), "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" [")[0]
    load = os.getloadavg()
    return (
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load[0]:.2f}; "
        f"{wrk_version} -t1: per mode and round, {args.warmup:g} s warm-up, "
        f"{args.seconds:g} s saturated (-c{args.connections}), {args.latency_seconds:g} s "
        f"unloaded (-c{args.latency_connections}); {args.rounds} round(s)"
    )


def run_rounds(modes: Sequence[Mode], args: argparse.Namespace) -> list[Run]:
    load = Load(
        seconds=args.seconds,
        warmup_seconds=args.warmup,
        connections=args.connections,
        latency_seconds=args.latency_seconds,
        latency_connections=args.latency_connections,
    )
    runs: list[Run] = []
    sinks = Sinks(udp=UdpSink(), otlp=OtlpSink())
    try:
        with (
            scratch_database("usermgmt_bench") as database,
            tempfile.TemporaryDirectory(prefix="bench-tracing-") as log_dir,
        ):
            for round_number in range(1, args.rounds + 1):
                for mode in rotated(modes, round_number):
                    run = measure(
                        mode,
                        round_number=round_number,
                        load=load,
                        database=database,
                        sinks=sinks,
                        log_dir=Path(log_dir),
                    )
                    print(run_line(run), flush=True)
                    runs.append(run)
    finally:
        sinks.udp.close()
        sinks.otlp.close()
    return runs


def print_report(runs: Sequence[Run], modes: Sequence[Mode], args: argparse.Namespace) -> None:
    summaries = summarise(runs, modes)
    print(f"\n## GET /usermgmt/notification-xray under wrk, median of {args.rounds} round(s)\n")
    print(table(summaries))
    print(NOTES.format(connections=args.connections, latency=args.latency_connections))
    targets = verdicts(summaries, args.connections)
    if targets:
        print("\nTargets (reported, not enforced):")
        print("\n".join(targets))
    trouble = problems(runs)
    print("\nErrors and service log lines: " + ("none" if not trouble else ""))
    if trouble:
        print("\n".join(trouble))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    modes = chosen_modes(args.modes)
    print(describe_machine(args), flush=True)
    runs = run_rounds(modes, args)
    print_report(runs, modes, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
