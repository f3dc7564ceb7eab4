"""The bench's figures: the median of each mode over its rounds, compared with tracing off."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .measure import Run
from .modes import OFF, OTEL, OTEL_PEER, SEGMENTS_PER_REQUEST, XRAY, Mode, Telemetry
from .wrk import WrkResult

MAX_THROUGHPUT_COST = 0.05  # X-Ray may cost at most 5% of tracing-off's requests/s
MAX_P50_ADDED_MS = 1.0  # and must add less than 1 ms at the median
MAX_OTEL_THROUGHPUT_COST = 0.15  # the tuned OTel mode: at most 15%, under 1 ms at p50


@dataclass(frozen=True)
class Summary:
    mode: Mode
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    unloaded_p50_ms: float
    unloaded_p99_ms: float
    cpu_ms_per_request: dict[str, float]
    requests_total: int
    telemetry_received: int

    @classmethod
    def of(cls, mode: Mode, runs: Sequence[Run]) -> Summary:
        def median(figure: Callable[[Run], float]) -> float:
            return statistics.median(figure(run) for run in runs)

        return cls(
            mode=mode,
            requests_per_second=median(lambda r: r.result.requests_per_second),
            p50_ms=median(lambda r: r.result.p50_ms),
            p99_ms=median(lambda r: r.result.p99_ms),
            unloaded_p50_ms=median(lambda r: r.unloaded.p50_ms),
            unloaded_p99_ms=median(lambda r: r.unloaded.p99_ms),
            cpu_ms_per_request={
                service: statistics.median(run.cpu_ms_per_request[service] for run in runs)
                for service in runs[0].cpu_ms_per_request
            },
            requests_total=sum(r.requests_total for r in runs),
            telemetry_received=sum(r.telemetry_received for r in runs),
        )

    def throughput_ratio(self, off: Summary) -> float:
        return self.requests_per_second / off.requests_per_second


def summarise(runs: Sequence[Run], modes: Sequence[Mode]) -> dict[str, Summary]:
    return {
        mode.key: Summary.of(mode, [r for r in runs if r.mode.key == mode.key]) for mode in modes
    }


def run_line(run: Run) -> str:
    """One measurement, printed as it completes, so drift between rounds shows."""
    line = (
        f"round {run.round} {run.mode.label:<34} {run.result.requests_per_second:>7,.0f} req/s "
        f"p50 {run.result.p50_ms:6.2f} p99 {run.result.p99_ms:6.2f} ms | unloaded "
        f"p50 {run.unloaded.p50_ms:5.2f} p99 {run.unloaded.p99_ms:6.2f} ms | CPU/request "
        + " + ".join(f"{ms:.2f}" for ms in run.cpu_ms_per_request.values())
        + " ms"
    )
    errors = [r.describe_errors() for r in (run.result, run.unloaded) if r.errors]
    if errors:
        line += "  ERRORS: " + "; ".join(errors)
    return line


HEADER = (
    "| mode | req/s | p50 (ms) | p99 (ms) | throughput vs off | p50 added vs off (ms) "
    "| p99 vs off | unloaded p50 / p99 (ms) | unloaded p50 added vs off (ms) "
    "| CPU/request, usermgmt + notification (ms) | telemetry received |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def table(summaries: dict[str, Summary]) -> str:
    off = summaries[OFF.key]
    return "\n".join([HEADER, *(_row(summary, off) for summary in summaries.values())])


def _row(summary: Summary, off: Summary) -> str:
    ratio = summary.throughput_ratio(off)
    p99_added = summary.p99_ms - off.p99_ms
    cells = [
        summary.mode.label,
        f"{summary.requests_per_second:,.0f}",
        f"{summary.p50_ms:.2f}",
        f"{summary.p99_ms:.2f}",
        f"{ratio:.3f} ({ratio - 1:+.1%})",
        f"{summary.p50_ms - off.p50_ms:+.2f}",
        f"{p99_added:+.2f} ms ({summary.p99_ms / off.p99_ms - 1:+.0%})",
        f"{summary.unloaded_p50_ms:.2f} / {summary.unloaded_p99_ms:.2f}",
        f"{summary.unloaded_p50_ms - off.unloaded_p50_ms:+.2f}",
        " + ".join(f"{ms:.2f}" for ms in summary.cpu_ms_per_request.values()),
        telemetry(summary),
    ]
    return "| " + " | ".join(cells) + " |"


def telemetry(summary: Summary) -> str:
    received = summary.telemetry_received
    if summary.mode.telemetry is Telemetry.XRAY:
        expected = SEGMENTS_PER_REQUEST * summary.requests_total
        return f"{received:,} segments of {expected:,} expected ({SEGMENTS_PER_REQUEST}/request)"
    if summary.mode.telemetry is Telemetry.OTLP:
        per_request = received / max(summary.requests_total, 1)
        return f"{received:,} spans ({per_request:.1f}/request)"
    return "-"


def verdicts(summaries: dict[str, Summary], connections: int) -> list[str]:
    """The targets, each with its figure and whether it was met: X-Ray's (with the untuned
    OpenTelemetry peer to compare), then the tuned OTel mode's, for the modes that ran."""
    off, xray = summaries[OFF.key], summaries.get(XRAY.key)
    peer, otel = summaries.get(OTEL_PEER.key), summaries.get(OTEL.key)
    lines = []
    if xray is not None:
        lines += _cost_lines("X-Ray", xray, off, MAX_THROUGHPUT_COST, connections)
        if peer is not None:
            lines.append(_cheaper_line(xray, peer, off))
    if otel is not None:
        lines += _cost_lines(
            "The tuned OTel mode", otel, off, MAX_OTEL_THROUGHPUT_COST, connections
        )
    return lines


def _cost_lines(
    who: str, mode: Summary, off: Summary, max_cost: float, connections: int
) -> list[str]:
    cost = 1 - mode.throughput_ratio(off)
    added = mode.p50_ms - off.p50_ms
    unloaded_added = mode.unloaded_p50_ms - off.unloaded_p50_ms
    return [
        f"- {who} costs <= {max_cost:.0%} of throughput versus off: "
        f"{cost:.1%} -> {_met(cost <= max_cost)}",
        f"- {who} adds < {MAX_P50_ADDED_MS:g} ms at p50 versus off, unloaded (what a request "
        f"costs): {unloaded_added:+.2f} ms -> {_met(unloaded_added < MAX_P50_ADDED_MS)}; "
        f"saturated at {connections} connections (mostly queueing, p50 ~ connections / req/s, "
        f"so it follows the throughput): {added:+.2f} ms -> {_met(added < MAX_P50_ADDED_MS)}",
    ]


def _cheaper_line(xray: Summary, peer: Summary, off: Summary) -> str:
    cost, peer_cost = 1 - xray.throughput_ratio(off), 1 - peer.throughput_ratio(off)
    unloaded_added = xray.unloaded_p50_ms - off.unloaded_p50_ms
    peer_unloaded_added = peer.unloaded_p50_ms - off.unloaded_p50_ms
    added, peer_added = xray.p50_ms - off.p50_ms, peer.p50_ms - off.p50_ms
    cheaper = cost < peer_cost and unloaded_added < peer_unloaded_added
    return (
        f"- X-Ray costs less than the untuned OpenTelemetry peer: throughput {cost:.1%} versus "
        f"{peer_cost:.1%}, unloaded p50 {unloaded_added:+.2f} ms versus "
        f"{peer_unloaded_added:+.2f} ms (saturated {added:+.2f} versus {peer_added:+.2f}) "
        f"-> {_met(cheaper)}"
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def problems(runs: Sequence[Run]) -> list[str]:
    """Every wrk run with errors, lost segments, and every service that logged anything
    (at LOG_LEVEL=WARNING a healthy service logs nothing)."""
    lines = []
    for run in runs:
        where = f"round {run.round}, {run.mode.label}"
        for name, result in (("saturated", run.result), ("unloaded", run.unloaded)):
            lines.extend(_errors(where, name, result))
        if run.mode.telemetry is Telemetry.XRAY and run.telemetry_received < run.segments_expected:
            lines.append(
                f"- {where}: {run.segments_expected - run.telemetry_received:,} segments "
                "missing at the sink"
            )
        for process, excerpt in run.log_excerpts.items():
            lines.append(f"- {where}: {process} logged: " + " | ".join(excerpt))
    return lines


def _errors(where: str, name: str, result: WrkResult) -> list[str]:
    if not result.errors:
        return []
    return [f"- {where}, {name} run: wrk saw errors: {result.describe_errors()}"]
