"""scripts/soak.py for 15 seconds: the whole soak, shortened, must lose no trace.

It runs as users run it (a subprocess, with its exit code), against the real MariaDB.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 15
PROCESSES = ("xray-local", "smtp-sink", "notification-v1", "usermgmt")
TRACES = re.compile(r"^traces: (\d+) checked, (\d+) complete, 0 missing, 0 incomplete$", re.M)
REQUESTS = re.compile(r"^requests sent: \d+ .*, 0 failed, users left in the database: 0$", re.M)
RSS_ROW = r"^  {} +\d+\.\d +\d+\.\d +\d+\.\d +[+-]\d+\.\d$"


def test_a_short_soak_loses_no_trace_and_reports_every_processs_memory(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.soak",
            "--seconds",
            str(SECONDS),
            "--log-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS + 60,
    )
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"
    assert result.returncode == 0, output
    traces = TRACES.search(result.stdout)
    assert traces is not None, output
    assert int(traces[1]) == int(traces[2]) > 0, output
    assert REQUESTS.search(result.stdout), output
    for name in PROCESSES:
        assert re.search(RSS_ROW.format(re.escape(name)), result.stdout, re.M), (name, output)
    assert "verdict: OK: no trace lost" in result.stdout, output
