"""One measurement: start a mode's chain, warm it up, load it with wrk, stop it, count."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import ProcessGroup, ServiceProcess
from tests.support.mariadb import ScratchDatabase

from .modes import SEGMENTS_PER_REQUEST, Chain, Mode, Sinks, Telemetry, start_chain
from .wrk import WrkResult, run_wrk

# Log lines of a service shown when it said something (at WARNING, it should say nothing).
SHOWN_LOG_LINES = 5


@dataclass(frozen=True)
class Load:
    seconds: float
    warmup_seconds: float
    connections: int
    # A second, unsaturated run: its latency is the time a request takes, not time queued.
    latency_seconds: float
    latency_connections: int = 1


@dataclass(frozen=True)
class Run:
    mode: Mode
    round: int
    # Saturated: throughput, and latency that is mostly queueing (p50 ~ connections / req/s).
    result: WrkResult
    # Unsaturated (latency_connections): what one request costs.
    unloaded: WrkResult
    # CPU time each service spent per request while wrk measured, in milliseconds.
    cpu_ms_per_request: dict[str, float]
    # Requests the chain served under wrk, warm-up included: what telemetry is counted over.
    requests_total: int
    # Segment documents (X-Ray) or spans (OpenTelemetry) that reached the sink.
    telemetry_received: int
    log_excerpts: dict[str, list[str]]

    @property
    def segments_expected(self) -> int:
        return SEGMENTS_PER_REQUEST * self.requests_total


def measure(
    mode: Mode,
    *,
    round_number: int,
    load: Load,
    database: ScratchDatabase,
    sinks: Sinks,
    log_dir: Path,
) -> Run:
    before = _telemetry_count(mode, sinks)
    with ProcessGroup(log_dir / f"round{round_number}-{mode.key}") as group:
        chain = start_chain(group, mode, database=database, sinks=sinks)
        warmup, result, cpu_ms, unloaded = _load(chain, load)
    # Stopped: an OpenTelemetry exporter has flushed its last batch on the way out.
    received = _telemetry_count(mode, sinks) - before
    return Run(
        mode=mode,
        round=round_number,
        result=result,
        unloaded=unloaded,
        cpu_ms_per_request=cpu_ms,
        requests_total=warmup.requests + result.requests + unloaded.requests,
        telemetry_received=received,
        log_excerpts={
            p.name: p.log_lines()[:SHOWN_LOG_LINES] for p in chain.processes if p.log_lines()
        },
    )


def _load(chain: Chain, load: Load) -> tuple[WrkResult, WrkResult, dict[str, float], WrkResult]:
    """Warm-up, saturated run (with each service's CPU time per request), unloaded run."""
    warmup = run_wrk(chain.url, seconds=load.warmup_seconds, connections=load.connections)
    cpu_before = [cpu_seconds(p) for p in chain.processes]
    result = run_wrk(chain.url, seconds=load.seconds, connections=load.connections)
    cpu_ms = {
        _service(p): (cpu_seconds(p) - before) * 1000 / max(result.requests, 1)
        for p, before in zip(chain.processes, cpu_before, strict=True)
    }
    unloaded = run_wrk(
        chain.url, seconds=load.latency_seconds, connections=load.latency_connections
    )
    for process in chain.processes:
        if not process.is_running():
            raise RuntimeError(f"{process.name} died under load:\n{process.log_text()}")
    return warmup, result, cpu_ms, unloaded


def cpu_seconds(process: ServiceProcess) -> float:
    """User plus system CPU time of a running process, from /proc."""
    stat = Path(f"/proc/{process.popen.pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _service(process: ServiceProcess) -> str:
    return process.name.rsplit("-", 1)[-1]


def _telemetry_count(mode: Mode, sinks: Sinks) -> int:
    if mode.telemetry is Telemetry.XRAY:
        return sinks.udp.settled_documents()
    if mode.telemetry is Telemetry.OTLP:
        return sinks.otlp.settled_spans()
    return 0
