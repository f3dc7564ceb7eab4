"""How each of the project's processes is started here: its command, environment and health.

`make run` (scripts/run_local.py), the benchmarks (scripts/bench), the soak and the tests
(tests/support/stack.py) all start them through these functions, so the services run the
same way everywhere: `python -m <service>` as a user or an image runs it, on loopback.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .polling import poll_until
from .ports import free_tcp_port
from .processes import ProcessExited, ProcessGroup, ServiceProcess

# Local sampling rules that record every request: what tests and measurements need to see.
SAMPLE_ALL_RULES = Path(__file__).with_name("sample-all.json")
USERMGMT_HEALTH = "/usermgmt/health-status"
USERMGMT_READINESS = "/usermgmt/readiness"
NOTIFICATION_HEALTH = "/notification/health-status"
NOTIFICATION_READINESS = "/notification/readiness"
XRAY_LOCAL_HEALTH = "/health"


def tracing_env(daemon_address: str, *, sample_all: bool = True) -> dict[str, str]:
    """Send to the daemon at `daemon_address`; with `sample_all`, record every request."""
    env = {"AWS_XRAY_DAEMON_ADDRESS": daemon_address}
    if sample_all:
        env["XRAY_SAMPLING_RULES"] = str(SAMPLE_ALL_RULES)
    return env


def start_notification(
    group: ProcessGroup,
    *,
    tracing: Mapping[str, str],
    smtp_port: int | None = None,
    version: str = "V1",
    port: int | None = None,
    extra: Mapping[str, str] | None = None,
    name: str | None = None,
    command: Sequence[str] | None = None,
) -> ServiceProcess:
    """Notification `version`, mailing 127.0.0.1:`smtp_port` (a free port, so nobody, if
    None). `command` replaces `python -m notification` (the OpenTelemetry launcher)."""
    env = {
        "APP_VERSION": version,
        "AWS_MAIL_SERVER_HOST": "127.0.0.1",
        "AWS_MAIL_SERVER_PORT": str(smtp_port or free_tcp_port()),
        **tracing,
        **(extra or {}),
    }
    return _start(
        group,
        name or f"notification-{version.lower()}",
        command or _module("notification"),
        env,
        port or free_tcp_port(),
        NOTIFICATION_HEALTH,
    )


def start_usermgmt(
    group: ProcessGroup,
    *,
    tracing: Mapping[str, str],
    database: Mapping[str, str],
    notification_port: int | None = None,
    notification_host: str = "localhost",
    port: int | None = None,
    extra: Mapping[str, str] | None = None,
    name: str = "usermgmt",
    command: Sequence[str] | None = None,
) -> ServiceProcess:
    """User management over `database` (its DB_* or SQLITE_PATH variables), calling
    notification at `notification_host`:`notification_port` (down, if None)."""
    env = {
        **database,
        "NOTIFICATION_SERVICE_HOST": notification_host,
        "NOTIFICATION_SERVICE_PORT": str(notification_port or free_tcp_port()),
        **tracing,
        **(extra or {}),
    }
    return _start(
        group, name, command or _module("usermgmt"), env, port or free_tcp_port(), USERMGMT_HEALTH
    )


def start_xray_local(
    group: ProcessGroup,
    *flags: str,
    udp_port: int,
    tcp_port: int,
    otlp_port: int | None = None,
    name: str = "xray-local",
) -> ServiceProcess:
    """The local X-Ray daemon (`python -m xray_local`): segments on `udp_port`, the X-Ray API
    and map page on `tcp_port`, OTLP/HTTP on `otlp_port` (the daemon's default if None);
    ready once GET /health answers."""
    addresses = ["-b", f"127.0.0.1:{udp_port}", "-t", f"127.0.0.1:{tcp_port}"]
    if otlp_port is not None:
        addresses += ["--bind-otlp", f"127.0.0.1:{otlp_port}"]
    return group.start(
        name,
        [*_module("xray_local"), *addresses, *flags],
        env={},
        port=tcp_port,
        ready_path=XRAY_LOCAL_HEALTH,
    )


def start_smtp_sink(
    group: ProcessGroup, *, port: int, show: bool = False, name: str = "smtp"
) -> ServiceProcess:
    """aiosmtpd on 127.0.0.1:`port`, printing every mail it gets (`show`) or keeping none
    (flat memory); ready once it greets."""
    handler = ["aiosmtpd.handlers.Debugging", "stdout"] if show else ["aiosmtpd.handlers.Sink"]
    process = group.start(
        name,
        [*_module("aiosmtpd"), "-n", "-l", f"127.0.0.1:{port}", "-c", *handler],
        env={},
        port=port,
    )

    def greets() -> bool:
        if not process.is_running():
            raise ProcessExited(process)
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(3) == b"220"

    poll_until(greets, f"the SMTP sink on 127.0.0.1:{port}", timeout=15, fatal=(ProcessExited,))
    return process


def _module(module: str) -> list[str]:
    return [sys.executable, "-m", module]


def _start(
    group: ProcessGroup,
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    port: int,
    ready_path: str,
) -> ServiceProcess:
    return group.start(
        name,
        list(command),
        env={"HOST": "127.0.0.1", "PORT": str(port), **env},
        port=port,
        ready_path=ready_path,
    )
