"""`make run`, the README's first command, as a newcomer runs it: the call chain, a local X-Ray
daemon and an SMTP sink on the README's ports; a call draws client -> user management ->
notification V1 on the daemon's map, with the X-Ray SDK and with TRACING_SDK=otel; Ctrl-C stops
every process and frees every port.

It needs the README's ports (8095, 8096, 2000, 1025, 4318) free, and fails saying so if they
are not (another `make run`, say)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.polling import poll_until
from scripts.run_local import PORTS, USERMGMT_PORT, XRAY, port_is_free
from tests.support.inprocess import service_variables
from tests.support.service_graph import Services, edge_between
from tests.support.xray_documents import USERMGMT, notification_name
from tests.support.xray_local import xray_client

ROOT = Path(__file__).resolve().parents[2]
USERMGMT_URL = f"http://127.0.0.1:{USERMGMT_PORT}/usermgmt"
DAEMON_API = f"http://{XRAY}"
BANNER = "Everything is up"
START_SECONDS = 60.0
STOP_SECONDS = 30.0
CLIENT, USERS = (USERMGMT, "client"), (USERMGMT, "service")
V1 = (notification_name("V1"), "service")


class Output:
    """The lines `make run` prints, read as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        with stream:
            for line in stream:
                self.lines.append(line.rstrip("\n"))

    def close(self) -> None:
        """Once the process has exited: the rest of its output."""
        self._thread.join(STOP_SECONDS)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)


def chain_on_the_map(since: float) -> Services | None:
    """One more call, then the map if it shows the whole chain (the daemon's rules sample the
    first request of each second)."""
    response = httpx.get(f"{USERMGMT_URL}/notification-xray", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["appversion"] == "V1"
    xray = xray_client(DAEMON_API)
    graph: Services = xray.get_service_graph(StartTime=since, EndTime=time.time() + 60)["Services"]
    edge_between(graph, CLIENT, USERS)
    edge_between(graph, USERS, V1)
    return graph


@pytest.mark.parametrize("sdk", ["xray", "otel"])
def test_make_run_draws_the_chain_and_ctrl_c_stops_it_all(sdk: str, tmp_path: Path) -> None:
    busy = [port for port in PORTS if not port_is_free(port)]
    if busy:
        pytest.fail(f"ports {busy} are taken: stop what holds them (another `make run`?)")
    # A newcomer's shell: none of the services' variables, but TRACING_SDK.
    env = {key: value for key, value in os.environ.items() if key not in service_variables()}
    env.update(TRACING_SDK=sdk, RUN_STATE_DIR=str(tmp_path))
    run = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    output = Output(run)
    try:
        poll_until(
            lambda: output.has(BANNER) or run.poll() is not None,
            "make run's banner",
            timeout=START_SECONDS,
        )
        assert output.has(BANNER), f"make run stopped:\n{output.text}"
        mode = "OpenTelemetry" if sdk == "otel" else "the X-Ray SDK"
        assert output.has(f"traced with {mode}"), output.text
        since = time.time() - 60
        poll_until(lambda: chain_on_the_map(since), "client -> user management -> V1 on the map")
    finally:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        run.wait(STOP_SECONDS)
        output.close()
    poll_until(lambda: all(port_is_free(port) for port in PORTS), "every port free", timeout=10)
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pid, 0)  # nothing of the group is left
    assert "Traceback" not in output.text, output.text
    assert (tmp_path / "usermgmt.db").is_file()  # the embedded default, where it was told


def test_an_unusable_state_dir_stops_make_run_with_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("")
    result = subprocess.run(
        [sys.executable, "scripts/run_local.py"],
        cwd=ROOT,
        env={**os.environ, "RUN_STATE_DIR": str(taken / "run")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr == f"cannot keep make run's files in {taken / 'run'}: Not a directory\n"
