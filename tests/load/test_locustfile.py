"""load/locustfile.py against the real chain: Locust headless for 10 s at a modest rate.

notification V1 and user management over a scratch MariaDB. Locust runs as a subprocess
(`python -m locust`), as `make load` runs it: importing it here would monkey-patch the test
process with gevent. What must hold: every request of the mix was sent and none failed, the
summary was printed with the V1/V2 split, and every account created was deleted again.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack import tracing_env
from devstack.processes import ProcessGroup, child_env
from tests.support.mariadb import ScratchDatabase
from tests.support.smtp import SmtpServer
from tests.support.stack import start_chain
from tests.support.udp import SegmentCollector

LOCUSTFILE = Path(__file__).resolve().parents[2] / "load" / "locustfile.py"
USERS = 4
RATE = 24  # requests a second in all: 60 per virtual user, each deck of the mix being 40
SECONDS = 10
ONE_USER = "/usermgmt/user/[username]"
CLEANUP = ("DELETE", f"{ONE_USER} (cleanup)")
MIX = {
    ("GET", "/usermgmt/notification-xray"),
    ("GET", "/usermgmt/notification-service-info"),
    ("GET", "/usermgmt/notification-health-status"),
    ("GET", "/usermgmt/users"),
    ("POST", "/usermgmt/user"),
    ("GET", ONE_USER),
    ("PUT", "/usermgmt/user"),
    ("DELETE", ONE_USER),
}
SPLIT_LINE = "appversion split in /usermgmt/notification-xray answers: V1 {} (100.0%)"


def run_locust(host: str, summary_path: Path) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("locust") is None:
        pytest.fail("Locust is not installed: make install (the `load` extra)", pytrace=False)
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--users", str(USERS), "--spawn-rate", str(USERS), "--run-time", f"{SECONDS}s"]
    command += ["--rate", str(RATE), "--host", host, "--summary-json", str(summary_path)]
    return subprocess.run(
        [*command, "--only-summary"],
        env=child_env({}),
        capture_output=True,
        text=True,
        timeout=SECONDS + 30,
    )


def by_endpoint(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["method"], e["name"]): e for e in summary["endpoints"]}


def test_a_run_sends_the_whole_mix_without_failures_and_leaves_no_user(
    tmp_path: Path, group: ProcessGroup, database: ScratchDatabase, smtp: SmtpServer
) -> None:
    collector = SegmentCollector()
    try:
        chain = start_chain(
            group, tracing=tracing_env(collector.address), database=database, smtp_port=smtp.port
        )
        result = run_locust(chain.usermgmt.base_url, tmp_path / "summary.json")
    finally:
        collector.close()
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"
    assert result.returncode == 0, output  # Locust exits 1 when any request failed

    summary = json.loads((tmp_path / "summary.json").read_text())
    endpoints = by_endpoint(summary)
    assert summary["failures"] == 0, output
    assert MIX <= set(endpoints) <= MIX | {CLEANUP}, output
    assert all(endpoints[e]["requests"] > 0 for e in MIX), output

    xray = endpoints[("GET", "/usermgmt/notification-xray")]["requests"]
    assert summary["appversions"] == {"V1": xray}
    assert "Load summary:" in result.stdout and SPLIT_LINE.format(xray) in result.stdout

    # Each virtual user deleted every account it created: by the DELETE of its lifecycle or,
    # for one alive at the end, the clean-up DELETE. A lifecycle DELETE the stop cut short may
    # have deleted the account already (the clean-up then answers 404): at most one such
    # overlap per virtual user. The empty table below is what must hold exactly.
    created = endpoints[("POST", "/usermgmt/user")]["requests"]
    deleted = endpoints[("DELETE", ONE_USER)]["requests"]
    cleaned = endpoints.get(CLEANUP, {"requests": 0})["requests"]
    assert created <= deleted + cleaned <= created + USERS, (created, deleted, cleaned)
    assert database.query("SELECT COUNT(*) FROM users") == [(0,)]
