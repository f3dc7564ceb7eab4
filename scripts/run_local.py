"""`make run`: the call chain on this machine, with a local X-Ray daemon drawing the map.

Starts the local X-Ray daemon, an SMTP sink that prints the emails, notification V1 and user
management (on an embedded SQLite file unless DB_HOSTNAME or DATABASE_URL is set), prefixes
each one's output with its name, prints what to try, and stops them all on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".run"
XRAY = "127.0.0.1:2000"
SMTP_PORT = 1025
USERMGMT_PORT = 8095
NOTIFICATION_PORT = 8096
READY_TIMEOUT_SECONDS = 30
COLOURS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m"]
RESET = "\033[0m"


@dataclass
class Service:
    name: str
    args: list[str]
    env: dict[str, str]
    ready_url: str | None = None
    process: subprocess.Popen[str] | None = None


def services() -> list[Service]:
    python = sys.executable
    tracing = {"AWS_XRAY_DAEMON_ADDRESS": os.environ.get("AWS_XRAY_DAEMON_ADDRESS", XRAY)}
    database = (
        {}
        if ("DB_HOSTNAME" in os.environ or "DATABASE_URL" in os.environ)
        else {"SQLITE_PATH": str(STATE / "usermgmt.db")}
    )
    return [
        Service(
            "xray",
            [python, "-m", "xray_local", "-b", XRAY, "-t", XRAY],
            {},
            f"http://{XRAY}/health",
        ),
        Service(
            "smtp",
            [
                python,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{SMTP_PORT}",
                "-c",
                "aiosmtpd.handlers.Debugging",
                "stdout",
            ],
            {},
        ),
        Service(
            "notification",
            [python, "-m", "notification"],
            {
                "PORT": str(NOTIFICATION_PORT),
                "HOST": "127.0.0.1",
                "APP_VERSION": "V1",
                "AWS_MAIL_SERVER_HOST": "127.0.0.1",
                "AWS_MAIL_SERVER_PORT": str(SMTP_PORT),
                "FAULT_INJECTION_ENABLED": "true",  # python -m notification.faults ...
                **tracing,
            },
            f"http://127.0.0.1:{NOTIFICATION_PORT}/notification/health-status",
        ),
        Service(
            "usermgmt",
            [python, "-m", "usermgmt"],
            {
                "PORT": str(USERMGMT_PORT),
                "HOST": "127.0.0.1",
                "NOTIFICATION_SERVICE_HOST": "127.0.0.1",
                "NOTIFICATION_SERVICE_PORT": str(NOTIFICATION_PORT),
                **database,
                **tracing,
            },
            f"http://127.0.0.1:{USERMGMT_PORT}/usermgmt/health-status",
        ),
    ]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start(service: Service, colour: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **service.env}
    service.process = subprocess.Popen(
        service.args,
        cwd=ROOT,
        env=env,
        text=True,
        bufsize=1,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    prefix = f"{colour}{service.name:>12} |{RESET} "

    def relay(stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sys.stdout.write(prefix + line)

    threading.Thread(target=relay, args=(service.process.stdout,), daemon=True).start()


def wait_ready(service: Service) -> None:
    if service.ready_url is None:
        return
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if service.process is not None and service.process.poll() is not None:
            raise SystemExit(
                f"{service.name} exited with code {service.process.returncode}; see its output"
            )
        try:
            with urllib.request.urlopen(service.ready_url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(
        f"{service.name} did not answer {service.ready_url} within {READY_TIMEOUT_SECONDS}s"
    )


def stop(all_services: list[Service]) -> None:
    for service in reversed(all_services):
        if service.process is not None and service.process.poll() is None:
            service.process.send_signal(signal.SIGTERM)
    for service in all_services:
        if service.process is not None:
            try:
                service.process.wait(10)
            except subprocess.TimeoutExpired:
                service.process.kill()


def banner() -> str:
    base = f"http://localhost:{USERMGMT_PORT}/usermgmt"
    user = (
        '{"username":"admin101","email":"admin101@example.com","role":"ROLE_ADMIN",'
        '"enabled":true,"firstname":"Fname101","lastname":"Lname101","password":"Pass@123"}'
    )
    return f"""
Everything is up. Try:
  curl {base}/notification-xray
  curl -X POST {base}/user -H 'Content-Type: application/json' -d '{user}'
  curl {base}/users
API docs:     {base}/docs  and  http://localhost:{NOTIFICATION_PORT}/notification/docs
Service map:  http://{XRAY}/   (or: {sys.executable} -m xray_local map --address {XRAY})
Faults:       {sys.executable} -m notification.faults --error-rate 0.5   (then --clear)
Emails are printed by 'smtp' below. Ctrl-C stops everything.
"""


def main() -> None:
    STATE.mkdir(exist_ok=True)
    busy = [p for p in (USERMGMT_PORT, NOTIFICATION_PORT, 2000, SMTP_PORT) if not port_is_free(p)]
    if busy:
        raise SystemExit(f"ports already in use: {busy}; is another `make run` still running?")
    all_services = services()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for index, service in enumerate(all_services):
            start(service, COLOURS[index % len(COLOURS)])
            wait_ready(service)
        print(banner(), flush=True)
        while all(s.process is not None and s.process.poll() is None for s in all_services):
            time.sleep(0.5)
        stopped = [
            s.name for s in all_services if s.process is not None and s.process.poll() is not None
        ]
        raise SystemExit(f"{', '.join(stopped)} stopped; stopping the rest")
    except KeyboardInterrupt:
        pass
    finally:
        stop(all_services)


if __name__ == "__main__":
    main()
