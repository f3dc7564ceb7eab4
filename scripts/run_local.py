"""`make run`: the call chain on this machine, with a local X-Ray daemon drawing the map.

Starts the local X-Ray daemon, an SMTP sink that prints the emails, notification V1 and user
management (on an embedded SQLite file unless DB_HOSTNAME or DATABASE_URL is set), traced
with the X-Ray SDK or, with TRACING_SDK=otel, OpenTelemetry sending OTLP/HTTP spans to the
same daemon (which draws the same map from them); prefixes each one's output with its name,
prints what to try, and stops them all on Ctrl-C. The processes are started as the tests and
benchmarks start them (devstack); their logs are also kept in .run/logs/ (RUN_STATE_DIR
instead of .run/, if set: the SQLite file is kept there too).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

from pydantic import ValidationError

from devstack import (
    ProcessExited,
    ProcessGroup,
    start_notification,
    start_smtp_sink,
    start_usermgmt,
    start_xray_local,
    tracing_env,
)
from tracing.config import TracingSdk, TracingSettings

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("RUN_STATE_DIR") or ROOT / ".run")
XRAY_PORT = 2000
XRAY = f"127.0.0.1:{XRAY_PORT}"
OTLP_PORT = 4318  # where the local daemon takes OTLP/HTTP spans (its default)
OTLP_TRACES = f"http://127.0.0.1:{OTLP_PORT}/v1/traces"
SMTP_PORT = 1025
USERMGMT_PORT = 8095
NOTIFICATION_PORT = 8096
PORTS = (USERMGMT_PORT, NOTIFICATION_PORT, XRAY_PORT, SMTP_PORT, OTLP_PORT)
COLOURS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m"]
RESET = "\033[0m"


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class Echo:
    """Each process's lines, prefixed with its name in a colour of its own."""

    def __init__(self) -> None:
        self._colours: dict[str, str] = {}

    def __call__(self, name: str, line: str) -> None:
        colour = self._colours.setdefault(name, COLOURS[len(self._colours) % len(COLOURS)])
        sys.stdout.write(f"{colour}{name:>12} |{RESET} {line}\n")
        sys.stdout.flush()


def start_all(group: ProcessGroup) -> None:
    daemon = os.environ.get("AWS_XRAY_DAEMON_ADDRESS", XRAY)
    # Sampled by the daemon's rules (the SDK's defaults), as a deployment would be.
    tracing = tracing_env(daemon, sample_all=False)
    if otel_mode():  # TRACING_SDK itself reaches the services with the whole environment
        tracing["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", OTLP_TRACES
        )
    database = (
        {}
        if ("DB_HOSTNAME" in os.environ or "DATABASE_URL" in os.environ)
        else {"SQLITE_PATH": str(STATE / "usermgmt.db")}
    )
    start_xray_local(group, udp_port=XRAY_PORT, tcp_port=XRAY_PORT, name="xray")
    start_smtp_sink(group, port=SMTP_PORT, show=True)
    start_notification(
        group,
        tracing=tracing,
        smtp_port=SMTP_PORT,
        port=NOTIFICATION_PORT,
        extra={"FAULT_INJECTION_ENABLED": "true"},  # python -m notification.faults ...
        name="notification",
    )
    start_usermgmt(
        group,
        tracing=tracing,
        database=database,
        notification_port=NOTIFICATION_PORT,
        notification_host="127.0.0.1",
        port=USERMGMT_PORT,
    )


def otel_mode() -> bool:
    """Whether the services will run with TRACING_SDK=otel, as their settings read it."""
    try:
        return TracingSettings().sdk is TracingSdk.OTEL
    except ValidationError as exc:  # the services would refuse to start
        raise SystemExit(f"invalid tracing settings: {exc}") from None


def banner() -> str:
    base = f"http://localhost:{USERMGMT_PORT}/usermgmt"
    mode = "OpenTelemetry (TRACING_SDK=otel)" if otel_mode() else "the X-Ray SDK"
    user = (
        '{"username":"admin101","email":"admin101@example.com","role":"ROLE_ADMIN",'
        '"enabled":true,"firstname":"Fname101","lastname":"Lname101","password":"Pass@123"}'
    )
    return f"""
Everything is up, traced with {mode}. Try:
  curl {base}/notification-xray
  curl -X POST {base}/user -H 'Content-Type: application/json' -d '{user}'
  curl {base}/users
API docs:     {base}/docs  and  http://localhost:{NOTIFICATION_PORT}/notification/docs
Service map:  http://{XRAY}/   (or: {sys.executable} -m xray_local map --address {XRAY})
Faults:       {sys.executable} -m notification.faults --error-rate 0.5   (then --clear)
Emails are printed by 'smtp' below. Ctrl-C stops everything.
"""


def main() -> None:
    try:
        STATE.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"cannot keep make run's files in {STATE}: {exc.strerror}") from None
    busy = [port for port in PORTS if not port_is_free(port)]
    if busy:
        raise SystemExit(f"ports already in use: {busy}; is another `make run` still running?")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with ProcessGroup(STATE / "logs", inherit_environment=True, echo=Echo()) as group:
        try:
            start_all(group)
            print(banner(), flush=True)
            while all(process.is_running() for process in group.processes):
                time.sleep(0.5)
            stopped = [process.name for process in group.processes if not process.is_running()]
            raise SystemExit(f"{', '.join(stopped)} stopped; stopping the rest")
        except (ProcessExited, TimeoutError) as exc:
            raise SystemExit(str(exc)) from None
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
