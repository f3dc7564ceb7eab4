"""`python -m xray_local map`: the service map printed for people without a browser."""

from __future__ import annotations

import subprocess
import sys

from devstack.ports import free_tcp_port
from devstack.processes import child_env
from tests.support.xray_documents import USERMGMT, chain_trace, notification_name
from tests.support.xray_local import LocalXRay


def run_map(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xray_local", "map", *args],
        capture_output=True,
        text=True,
        env=child_env(env or {}),
        timeout=30,
    )


def test_the_map_is_printed_as_a_tree_of_calls(xray: LocalXRay) -> None:
    traces = [
        chain_trace(sql_calls=2),
        chain_trace(sql_calls=2),
        chain_trace(notification_status=500),
    ]
    xray.wait_for_datagrams(xray.send(document for trace in traces for document in trace))
    result = run_map("-t", xray.tcp_address, "--minutes", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Service map, last 5 minutes (http://{xray.tcp_address}/)"
    tree = lines[lines.index("(client)") : lines.index("Nodes:")]
    assert tree[1].startswith(f"└── {USERMGMT}: 3 req, 0.6/min, ")
    assert tree[1].endswith(" ms avg, 0% errors, 33% faults")  # one 502 of three
    assert any(line.startswith(f"    ├── {notification_name('V1')}: 3 req,") for line in tree)
    assert any(line.startswith("    └── usermgmt@mysql [Database::SQL]: 4 req,") for line in tree)
    nodes = lines[lines.index("Nodes:") + 1 :]
    assert [line.split(" [")[0].strip() for line in nodes] == [
        USERMGMT,
        notification_name("V1"),
        "usermgmt@mysql",
    ]


def test_the_address_comes_from_the_sdks_variable_when_no_flag_is_given(xray: LocalXRay) -> None:
    xray.wait_for_datagrams(xray.send(chain_trace()))
    result = run_map(env={"AWS_XRAY_DAEMON_ADDRESS": xray.daemon_address})
    assert result.returncode == 0, result.stderr
    assert f"(http://{xray.tcp_address}/)" in result.stdout and "(client)" in result.stdout


def test_an_empty_map_says_what_to_do(xray: LocalXRay) -> None:
    result = run_map("--address", xray.tcp_address)
    assert result.returncode == 0
    assert "No traces yet" in result.stdout


def test_an_unreachable_daemon_is_a_clear_failure() -> None:
    address = f"127.0.0.1:{free_tcp_port()}"
    result = run_map("-t", address)
    assert result.returncode == 1
    assert f"cannot get the service map from xray_local at http://{address}" in result.stderr
    assert "Traceback" not in result.stderr
