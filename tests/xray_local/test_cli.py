"""`python -m xray_local`: the daemon's flags and config.yaml, and clear start-up failures."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devstack.ports import free_tcp_port, free_udp_port
from devstack.processes import ProcessGroup, child_env
from tests.support.xray_documents import chain_trace, datagram
from tests.support.xray_local import HEALTH_PATH, LocalXRay, start_xray_local

DAEMON = [sys.executable, "-m", "xray_local"]


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def daemon_config(udp: int, tcp: int) -> str:
    """A config.yaml as the real daemon's documentation writes one, AWS keys included."""
    return f"""\
TotalBufferSizeMB: 24
Concurrency: 8
Region: "eu-west-1"
Endpoint: ""
Socket:
  UDPAddress: "127.0.0.1:{udp}"
  TCPAddress: "127.0.0.1:{tcp}"
Logging:
  LogRotation: true
  LogLevel: "info"
LocalMode: true
ResourceARN: ""
RoleARN: ""
NoVerifySSL: false
ProxyAddress: ""
Version: 2
"""


def test_the_daemons_config_file_sets_the_addresses(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    udp, tcp, otlp = free_udp_port(), free_tcp_port(), free_tcp_port()
    # Socket.OTLPAddress is this daemon's own key, next to the real daemon's.
    text = daemon_config(udp, tcp).replace(
        "Socket:\n", f'Socket:\n  OTLPAddress: "127.0.0.1:{otlp}"\n'
    )
    path = config_file(tmp_path, text)
    process = processes.start(
        "xray-local", [*DAEMON, "-c", str(path)], env={}, port=tcp, ready_path=HEALTH_PATH
    )
    xray = LocalXRay(process, udp, tcp, otlp)
    xray.wait_for_datagrams(xray.send(chain_trace()))
    assert xray.stats()["intake"]["documents"] == 2
    assert xray.stats()["otlp"]["address"] == f"127.0.0.1:{otlp}"
    assert xray.post_otlp(b"").status_code == 200
    log = xray.log_text()
    assert "ignoring settings that only concern AWS: " in log
    for key in (
        "Region (config file)",
        "LocalMode (config file)",
        "TotalBufferSizeMB (config file)",
    ):
        assert key in log


def test_flags_win_over_the_config_file(processes: ProcessGroup, tmp_path: Path) -> None:
    path = config_file(tmp_path, daemon_config(free_udp_port(), free_tcp_port()))
    xray = start_xray_local(processes, "-c", str(path))  # with -b and -t on other ports
    assert xray.stats()["tcp"] == xray.tcp_address and xray.stats()["udp"] == xray.udp_address


def test_the_aws_only_flags_of_the_daemon_are_accepted(processes: ProcessGroup) -> None:
    xray = start_xray_local(
        processes, "-o", "-n", "us-east-2", "--role-arn", "arn:aws:iam::1:role/x"
    )
    assert (
        "ignoring settings that only concern AWS: --region, --role-arn, --local-mode"
        in xray.log_text()
    )


def run_daemon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DAEMON, *args], capture_output=True, text=True, env=child_env({}), timeout=30
    )


@pytest.mark.parametrize(
    ("config", "phrase"),
    [
        ("Socket:\n  UDPAddress: '127.0.0.1:2000'\n", "Version must be 1 or 2"),
        ("Version: 3\n", "Version must be 1 or 2"),
        ("Version: 2\nSocket:\n  UDPAdress: '127.0.0.1:2000'\n", "unknown keys Socket.UDPAdress"),
        ("Version: 2\nSocket:\n  TCPAddress: 'localhost'\n", "'localhost' is not HOST:PORT"),
        ("Version: 2\nSocket:\n  TCPAddress: 2000\n", "Socket.TCPAddress must be a string"),
        ("Version: 2\nLogging:\n  LogLevel: loud\n", "Logging.LogLevel must be one of"),
        ("Version: [2\n", "is not valid YAML"),
        ("- Version\n", "must be a mapping"),
    ],
    ids=["no-version", "bad-version", "typo", "no-port", "not-text", "log-level", "yaml", "list"],
)
def test_a_bad_config_file_stops_the_daemon_with_the_reason(
    tmp_path: Path, config: str, phrase: str
) -> None:
    result = run_daemon("-c", str(config_file(tmp_path, config)))
    assert result.returncode == 2
    assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["-b", "nonsense"], "UDP address 'nonsense' is not HOST:PORT"),
        (["-t", "127.0.0.1:70000"], "port 70000 is out of range"),
        (["--upstream", "daemon:0"], "port 0 is out of range"),
        (["--keep-traces", "0"], "must be a positive whole number"),
        (["--keep-minutes", "soon"], "must be a positive number"),
        (["-c", "/nonexistent/cfg.yaml"], "cannot read config file /nonexistent/cfg.yaml"),
        (["--sampling-rules", "/nonexistent/rules.json"], "cannot read sampling rules"),
    ],
    ids=["udp", "tcp-port", "upstream-port", "keep-traces", "keep-minutes", "config", "rules"],
)
def test_bad_flags_stop_the_daemon_with_the_reason(args: list[str], phrase: str) -> None:
    result = run_daemon(
        "-b", f"127.0.0.1:{free_udp_port()}", "-t", f"127.0.0.1:{free_tcp_port()}", *args
    )
    assert result.returncode == 2
    assert phrase in result.stderr, result.stderr


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_daemon("-b", f"127.0.0.1:{free_udp_port()}", "-t", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"cannot listen on TCP 127.0.0.1:{port}: Address already in use" in result.stderr


def test_otlp_http_can_be_turned_off(processes: ProcessGroup) -> None:
    xray = start_xray_local(processes, otlp=False)
    assert xray.stats()["otlp"]["address"] is None
    assert "OTLP/HTTP" not in xray.log_text()


def test_otlp_needs_a_port_of_its_own() -> None:
    tcp = free_tcp_port()
    result = run_daemon(
        "-b", f"127.0.0.1:{free_udp_port()}", "-t", f"127.0.0.1:{tcp}", "--bind-otlp", f":{tcp}"
    )
    assert result.returncode == 2
    assert "need different ports (or --bind-otlp off)" in result.stderr, result.stderr


def test_sigterm_stops_it_cleanly(processes: ProcessGroup) -> None:
    xray = start_xray_local(processes)
    xray.send([datagram(chain_trace()[0])])
    assert xray.process.stop() == 0
    assert xray.log_text().rstrip().endswith("stopped")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{xray.base_url}/health")


def test_the_version_is_printed() -> None:
    result = run_daemon("--version")
    assert result.returncode == 0 and result.stdout.startswith("xray_local ")
