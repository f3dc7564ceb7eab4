"""The tracing modes compared, and the call chain started fresh for each.

Every mode runs the same two processes with the same settings (one uvicorn worker each,
LOG_LEVEL=WARNING so access logs are off everywhere, MariaDB for user management,
notification V1); only how they are traced differs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from tests.support.mariadb import ScratchDatabase
from tests.support.ports import free_tcp_port
from tests.support.processes import ProcessGroup, ServiceProcess
from tests.support.stack import NOTIFICATION_HEALTH, USERMGMT_HEALTH, tracing_env

from .sinks import OtlpSink, UdpSink

ROOT = Path(__file__).resolve().parents[2]
CHAIN_PATH = "/usermgmt/notification-xray"
OTEL_LAUNCHER = "scripts.bench.otel_service"
LOG_LEVEL = "WARNING"
# Documents one request through the chain sends: user management's segment (holding the
# httpx subsegment) and notification's segment.
SEGMENTS_PER_REQUEST = 2


class Telemetry(StrEnum):
    NONE = "none"
    XRAY = "xray"
    OTEL = "otel"


@dataclass(frozen=True)
class Mode:
    key: str
    label: str
    telemetry: Telemetry
    usermgmt_env: Mapping[str, str] = field(default_factory=dict)


XRAY = Mode("xray", "X-Ray on", Telemetry.XRAY)
OFF = Mode("off", "tracing off", Telemetry.NONE)
OTEL = Mode("otel", "OpenTelemetry peer", Telemetry.OTEL)
XRAY_PER_REQUEST = Mode(
    "xray-per-request",
    "X-Ray on, per-request connections",
    Telemetry.XRAY,
    {"NOTIFICATION_CONNECTION_POLICY": "per-request"},
)


@dataclass(frozen=True)
class Sinks:
    udp: UdpSink
    otlp: OtlpSink


@dataclass
class Chain:
    usermgmt: ServiceProcess
    notification: ServiceProcess

    @property
    def url(self) -> str:
        return self.usermgmt.base_url + CHAIN_PATH

    @property
    def processes(self) -> tuple[ServiceProcess, ServiceProcess]:
        return (self.usermgmt, self.notification)


def start_chain(
    group: ProcessGroup, mode: Mode, *, database: ScratchDatabase, sinks: Sinks
) -> Chain:
    tracing = _tracing_env(mode, sinks)
    notification_port = free_tcp_port()
    notification = _start(
        group,
        mode,
        "notification",
        port=notification_port,
        env={
            "APP_VERSION": "V1",
            # Nothing listens there: /notification/xray sends no email.
            "AWS_MAIL_SERVER_HOST": "127.0.0.1",
            "AWS_MAIL_SERVER_PORT": str(free_tcp_port()),
            **tracing,
        },
        ready_path=NOTIFICATION_HEALTH,
    )
    usermgmt = _start(
        group,
        mode,
        "usermgmt",
        port=free_tcp_port(),
        env={
            **database.env(),
            # An address, not "localhost": name resolution is not what is measured.
            "NOTIFICATION_SERVICE_HOST": "127.0.0.1",
            "NOTIFICATION_SERVICE_PORT": str(notification_port),
            **tracing,
            **mode.usermgmt_env,
        },
        ready_path=USERMGMT_HEALTH,
    )
    return Chain(usermgmt=usermgmt, notification=notification)


def _tracing_env(mode: Mode, sinks: Sinks) -> dict[str, str]:
    if mode.telemetry is Telemetry.XRAY:
        return tracing_env(sinks.udp.address, sample_all=True)
    env = {"AWS_XRAY_SDK_ENABLED": "false"}
    if mode.telemetry is Telemetry.OTEL:
        env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = sinks.otlp.traces_url
    return env


def _start(
    group: ProcessGroup,
    mode: Mode,
    service: str,
    *,
    port: int,
    env: Mapping[str, str],
    ready_path: str,
) -> ServiceProcess:
    """`python -m <service>`, or the OpenTelemetry launcher for the same service."""
    if mode.telemetry is Telemetry.OTEL:
        args = [sys.executable, "-m", OTEL_LAUNCHER, service]
    else:
        args = [sys.executable, "-m", service]
    return group.start(
        f"{mode.key}-{service}",
        args,
        env={
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": LOG_LEVEL,
            # The services of this checkout (also when it is not the one installed in the
            # virtualenv), and the OpenTelemetry launcher next to this file.
            "PYTHONPATH": os.pathsep.join([str(ROOT / "services"), str(ROOT)]),
            **env,
        },
        port=port,
        ready_path=ready_path,
    )
