"""Start-up: bad settings stop a service with one clear line; the database choice is told."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devstack import USERMGMT_HEALTH, start_notification, tracing_env
from devstack.ports import free_tcp_port
from devstack.processes import ProcessGroup, child_env
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import start_usermgmt
from tests.support.udp import SegmentCollector

FORMS = "expected 'host:port' or 'tcp:host:port udp:host:port'"


def run_briefly(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module],
        env=child_env({"PORT": str(free_tcp_port()), **env}),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("module", ["usermgmt", "notification"])
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"AWS_XRAY_DAEMON_ADDRESS": "xray daemon"},
            f"AWS_XRAY_DAEMON_ADDRESS='xray daemon': {FORMS}",
        ),
        ({"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1"}, f"AWS_XRAY_DAEMON_ADDRESS='127.0.0.1': {FORMS}"),
        (
            {"AWS_XRAY_CONTEXT_MISSING": "CRASH"},
            "AWS_XRAY_CONTEXT_MISSING='CRASH': Input should be",
        ),
        ({"PORT": "http"}, "PORT='http': Input should be a valid integer"),
        ({"TRACING_SDK": "jaeger"}, "TRACING_SDK='jaeger': Input should be"),
        (
            {"TRACING_SDK": "otel", "OTEL_TRACES_SAMPLER_ARG": "2"},
            "OTEL_TRACES_SAMPLER_ARG='2': Input should be less than or equal to 1",
        ),
    ],
)
def test_an_invalid_setting_stops_start_up_with_one_line(
    module: str, env: dict[str, str], expected: str
) -> None:
    result = run_briefly(module, env)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{module}: invalid configuration: ")
    assert expected in line


def test_an_unknown_connection_policy_names_the_choices() -> None:
    result = run_briefly("usermgmt", {"NOTIFICATION_CONNECTION_POLICY": "sticky"})
    assert result.returncode == 2
    assert "NOTIFICATION_CONNECTION_POLICY='sticky': Input should be 'keep-alive' or " in (
        result.stderr
    )


def test_faults_without_fault_injection_enabled_are_refused_without_echoing_secrets() -> None:
    result = run_briefly(
        "notification", {"FAULT_ERROR_RATE": "0.5", "AWS_MAIL_SERVER_PASSWORD": "s3cret"}
    )
    assert result.returncode == 2
    assert result.stderr == (
        "notification: invalid configuration: FAULT_ERROR_RATE or FAULT_LATENCY_MS is set:"
        " set FAULT_INJECTION_ENABLED=true too\n"
    )


def test_a_secret_is_named_but_never_echoed() -> None:
    result = run_briefly(
        "usermgmt", {"DATABASE_URL": "mysql+pymysql://app:s3cret@db:notaport/usermgmt"}
    )
    assert result.returncode == 2
    assert "DATABASE_URL: not a database URL" in result.stderr
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("oracle9://app:s3cret@db/usermgmt", "no database driver for 'oracle9'"),
        (
            "mysql+nosuchdriver://app:s3cret@db/usermgmt",
            "no database driver for 'mysql+nosuchdriver'",
        ),
        (
            "mysql+mysqldb://app:s3cret@db/usermgmt",
            "'mysql+mysqldb' needs MySQLdb, which is not installed",
        ),
    ],
)
def test_an_unknown_database_driver_stops_start_up_with_one_line(url: str, expected: str) -> None:
    result = run_briefly("usermgmt", {"DATABASE_URL": url})
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("usermgmt: invalid configuration: DATABASE_URL: ")
    assert expected in line
    assert "s3cret" not in result.stderr


def test_without_a_database_setting_it_says_it_uses_sqlite(
    group: ProcessGroup, collector: SegmentCollector, tmp_path: Path
) -> None:
    sqlite = tmp_path / "users.db"
    usermgmt = group.start_module(
        "usermgmt-sqlite",
        "usermgmt",
        env={
            **tracing_env(collector.address),
            "SQLITE_PATH": str(sqlite),
            "BCRYPT_ROUNDS": "4",
            "NOTIFICATION_SERVICE_PORT": str(free_tcp_port()),
        },
        port=free_tcp_port(),
        ready_path=USERMGMT_HEALTH,
    )
    assert f"database: sqlite+pysqlite:///{sqlite} (from embedded SQLite" in usermgmt.log_text()
    created = httpx.post(
        f"{usermgmt.base_url}/usermgmt/user",
        json={
            "username": "lite1",
            "email": "lite1@example.com",
            "firstname": "L",
            "password": "Pass@123",
        },
    )
    assert created.status_code == 201
    [segment] = collector.wait_for_trace(
        created.headers["X-Amzn-Trace-Id"].removeprefix("Root="), 1
    )
    assert {sub["name"] for sub in segment["subsegments"] if "sql" in sub} == {"users@localhost"}
    assert sqlite.exists()


def test_an_existing_table_from_the_original_service_is_used_as_is(
    group: ProcessGroup, database: ScratchDatabase, collector: SegmentCollector
) -> None:
    """Hibernate created `users` with VARCHAR(255) columns and enabled as BIT(1)."""
    from tests.support.mariadb import server_connection

    with server_connection() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{database.name}`")
        cur.execute(f"USE `{database.name}`")
        cur.execute(
            "CREATE TABLE users (username VARCHAR(255) NOT NULL PRIMARY KEY,"
            " email VARCHAR(255) NOT NULL, enabled BIT(1) NOT NULL,"
            " firstname VARCHAR(255) NOT NULL, lastname VARCHAR(255),"
            " password VARCHAR(255) NOT NULL, role VARCHAR(255) NOT NULL)"
        )
        cur.execute(
            "INSERT INTO users VALUES ('legacy1', 'l1@example.com', b'0', 'Old', 'Timer',"
            " '$2a$10$abcdefghijklmnopqrstuuJ3b7bQWm6d0x9a5cYlZQ0h2bH8D3mK', 'ROLE_ADMIN')"
        )
    usermgmt = start_usermgmt(
        group,
        tracing=tracing_env(collector.address),
        database=database,
    )
    with httpx.Client(base_url=f"{usermgmt.base_url}/usermgmt") as api:
        check_legacy_table(api, database)


def check_legacy_table(api: httpx.Client, database: ScratchDatabase) -> None:
    assert api.get("/user/legacy1").json() == {
        "username": "legacy1",
        "email": "l1@example.com",
        "role": "ROLE_ADMIN",
        "enabled": False,
        "firstname": "Old",
        "lastname": "Timer",
    }
    assert api.get("/status/legacy1").json()["enabled"] is True
    assert database.query("SELECT enabled FROM users WHERE username = 'legacy1'") == [(b"\x01",)]
    assert (
        api.post(
            "/user",
            json={
                "username": "new1",
                "email": "n1@example.com",
                "firstname": "N",
                "password": "Pass@123",
            },
        ).status_code
        == 201
    )
    assert api.get("/user/new1").json()["enabled"] is True


def test_json_logs_are_one_object_per_line_with_the_trace_id(
    group: ProcessGroup, database: ScratchDatabase, collector: SegmentCollector
) -> None:
    usermgmt = start_usermgmt(
        group,
        tracing=tracing_env(collector.address),
        database=database,
        extra={"LOG_FORMAT": "json"},
    )
    response = httpx.get(f"{usermgmt.base_url}/usermgmt/notification-xray")  # notification is down
    assert response.status_code == 502
    trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    records = [json.loads(line) for line in usermgmt.log_lines()]
    mine = [r for r in records if r["trace_id"] == trace_id]
    assert {r["logger"] for r in mine} >= {"usermgmt.errors", "uvicorn.access"}
    assert all(set(r) >= {"time", "level", "logger", "trace_id", "message"} for r in records)


# The interpreter alone tracks about 20,000 objects; the app, FastAPI, pydantic and a tracing
# SDK take a service past 100,000.
STARTUP_HEAP_OBJECTS = 50_000


@pytest.mark.parametrize("sdk", ["xray", "otel"])
def test_the_start_up_heap_is_frozen_out_of_full_collections(
    group: ProcessGroup, collector: SegmentCollector, tmp_path: Path, sdk: str
) -> None:
    # Full collections came every few thousand requests in OTel mode and walked it all (up to
    # 90 ms each, every request in flight waiting); frozen once the app is built, they walk
    # only what requests made (the unloaded p99 in `make bench`: 50-58 ms -> 11-12 ms).
    tracing = {**tracing_env(collector.address), "TRACING_SDK": sdk}
    notification = start_notification(group, tracing=tracing, name=f"notification-{sdk}")
    usermgmt = group.start_module(
        f"usermgmt-{sdk}",
        "usermgmt",
        env={**tracing, "SQLITE_PATH": str(tmp_path / "users.db"), "BCRYPT_ROUNDS": "4"},
        port=free_tcp_port(),
        ready_path=USERMGMT_HEALTH,
    )
    for service in (notification, usermgmt):
        [frozen] = re.findall(
            r"start-up heap: ([\d,]+) objects frozen out of full collections", service.log_text()
        )
        assert int(frozen.replace(",", "")) > STARTUP_HEAP_OBJECTS, service.log_text()
