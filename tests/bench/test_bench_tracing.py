"""scripts/bench_tracing.py in its short mode prints the table, with traffic and telemetry.

No timing is asserted (tests have no wall-clock thresholds): only that every mode served
requests without errors and that X-Ray segments and OpenTelemetry spans really arrived.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Four modes (the per-request connection mode is left out to keep the test short), 2 s of
# load, 1 s of warm-up and 1 s unloaded each: about 35 s with the processes' start-up.
ARGS = ["--short", "--modes", "xray,otel,otel-peer", "--seconds", "2", "--warmup", "1"]
ARGS += ["--latency-seconds", "1"]
XRAY, OTEL, PEER = "X-Ray on", "OTel mode, tuned (TRACING_SDK=otel)", "OTel peer, untuned"
MODES = (XRAY, "tracing off", OTEL, PEER)


@pytest.fixture(scope="module")
def output() -> str:
    if shutil.which("wrk") is None:
        pytest.fail("the bench needs wrk: apt-get install wrk")
    done = subprocess.run(
        [sys.executable, "-m", "scripts.bench_tracing", *ARGS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def table_rows(output: str) -> dict[str, list[str]]:
    """The Markdown table's rows, by mode."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] in MODES:
            rows[cells[0]] = cells
    return rows


def number(text: str) -> float:
    match = re.match(r"[\d,.]+", text)
    assert match, text
    return float(match.group().replace(",", ""))


def test_every_mode_has_a_row_with_requests_served(output: str) -> None:
    rows = table_rows(output)
    assert set(rows) == set(MODES), output
    for mode, cells in rows.items():
        assert number(cells[1]) > 0, f"{mode} served no requests:\n{output}"


def test_the_targets_are_reported_not_enforced(output: str) -> None:
    assert "Targets (reported, not enforced):" in output
    assert re.search(r"X-Ray costs <= 5% of throughput versus off: .* -> (met|NOT met)", output)
    assert re.search(
        r"The tuned OTel mode costs <= 15% of throughput versus off: .* -> (met|NOT met)", output
    )
    assert re.search(r"The tuned OTel mode adds < 1 ms at p50 .* -> (met|NOT met)", output)


def test_segments_and_spans_arrived(output: str) -> None:
    rows = table_rows(output)
    segments = re.match(r"([\d,]+) segments of ([\d,]+) expected", rows[XRAY][-1])
    assert segments, output
    # Complete delivery is the integration tests' business; here: tracing really happened.
    assert number(segments.group(1)) > 0
    for mode in (OTEL, PEER):
        spans = re.match(r"([\d,]+) spans", rows[mode][-1])
        assert spans and number(spans.group(1)) > 0, output


def test_no_run_had_errors(output: str) -> None:
    assert "Errors and service log lines: none" in output, output
