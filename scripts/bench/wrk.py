"""Run wrk against one URL and read its summary: requests/s, latency percentiles, errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

WRK = "wrk"
# wrk's time units (src/units.c): us, ms, s, m, h.
TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.MULTILINE)
RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
SOCKET_ERROR_KINDS = ("connect", "read", "write", "timeout")
NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)", re.MULTILINE)
# Beyond --duration, the time wrk may take to finish and print.
GRACE_SECONDS = 30.0


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed something this parser does not understand."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    # Latency percentiles in milliseconds, keyed by percentile (50, 75, 90, 99).
    latency_ms: dict[int, float]
    socket_errors: dict[str, int] = field(default_factory=dict)
    non_2xx: int = 0

    @property
    def p50_ms(self) -> float:
        return self.latency_ms[50]

    @property
    def p99_ms(self) -> float:
        return self.latency_ms[99]

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def describe_errors(self) -> str:
        parts = [f"{kind} {count}" for kind, count in self.socket_errors.items() if count]
        if self.non_2xx:
            parts.append(f"non-2xx/3xx {self.non_2xx}")
        return ", ".join(parts) or "none"


def require_wrk() -> str:
    path = shutil.which(WRK)
    if path is None:
        raise WrkError("wrk is not installed: apt-get install wrk")
    return path


def run_wrk(url: str, *, seconds: float, connections: int, threads: int = 1) -> WrkResult:
    """`wrk -t<threads> -c<connections> -d<seconds>s --latency url`, parsed."""
    args = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        url,
    ]
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=seconds + GRACE_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish: {' '.join(args)}") from exc
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> WrkResult:
    """Read the summary `wrk --latency` prints (see tests/bench for a sample)."""
    requests = REQUESTS.search(output)
    rate = RATE.search(output)
    percentiles = {int(p): _ms(value, unit) for p, value, unit in PERCENTILE.findall(output)}
    if requests is None or rate is None or not {50, 99} <= percentiles.keys():
        raise WrkError(f"cannot read wrk's output:\n{output}")
    socket_errors = SOCKET_ERRORS.search(output)
    non_2xx = NON_2XX.search(output)
    error_counts = map(int, socket_errors.groups()) if socket_errors else ()
    return WrkResult(
        requests=int(requests.group(1)),
        seconds=_ms(requests.group(2), requests.group(3)) / 1000,
        requests_per_second=float(rate.group(1)),
        latency_ms=percentiles,
        socket_errors=dict(zip(SOCKET_ERROR_KINDS, error_counts, strict=False)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def _ms(value: str, unit: str) -> float:
    return float(value) * TIME_UNITS_MS[unit]
