"""The tracing modes compared, and the call chain started fresh for each.

Every mode runs the same two processes with the same settings (one uvicorn worker each,
LOG_LEVEL=WARNING so access logs are off everywhere, MariaDB for user management,
notification V1); only how they are traced differs. Two send OpenTelemetry spans: the
project's own mode (TRACING_SDK=otel, the services' tracing hooks recording one span per
request and per call, batched) and the untuned peer (OpenTelemetry's FastAPI and httpx
instrumentations with their defaults, scripts/bench/otel_service.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from devstack import ProcessGroup, ServiceProcess, start_notification, start_usermgmt, tracing_env
from tests.support.mariadb import ScratchDatabase

from .sinks import OtlpSink, UdpSink

ROOT = Path(__file__).resolve().parents[2]
CHAIN_PATH = "/usermgmt/notification-xray"
OTEL_LAUNCHER = "scripts.bench.otel_service"
LOG_LEVEL = "WARNING"
# Documents one request through the chain sends: user management's segment (holding the
# httpx subsegment) and notification's segment.
SEGMENTS_PER_REQUEST = 2


# The project's OpenTelemetry mode, tuned as it would be deployed: spans batched in a queue
# deep enough for a saturated run (OTEL_BSP_* are the SDK's own variables), sampled by the
# same local rules as X-Ray's mode. Its hooks make no spans for ASGI receive/send events.
OTEL_TUNING = {
    "TRACING_SDK": "otel",
    "OTEL_BSP_MAX_QUEUE_SIZE": "8192",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1024",
    "OTEL_BSP_SCHEDULE_DELAY": "1000",
}


class Telemetry(StrEnum):
    """What a mode sends, and so what the bench counts."""

    NONE = "none"
    XRAY = "xray"  # segment documents over UDP
    OTLP = "otlp"  # OpenTelemetry spans, OTLP/HTTP


@dataclass(frozen=True)
class Mode:
    key: str
    label: str
    telemetry: Telemetry
    usermgmt_env: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)  # both services'
    peer: bool = False  # run by the OpenTelemetry peer's launcher, not `python -m <service>`


XRAY = Mode("xray", "X-Ray on", Telemetry.XRAY)
OFF = Mode("off", "tracing off", Telemetry.NONE)
OTEL = Mode("otel", "OTel mode, tuned (TRACING_SDK=otel)", Telemetry.OTLP, env=OTEL_TUNING)
OTEL_PEER = Mode("otel-peer", "OTel peer, untuned", Telemetry.OTLP, peer=True)
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
    tracing = {**_tracing_env(mode, sinks), **mode.env}
    common = {
        "LOG_LEVEL": LOG_LEVEL,
        # The services of this checkout (also when it is not the one installed in the
        # virtualenv), and the OpenTelemetry launcher next to this file.
        "PYTHONPATH": os.pathsep.join([str(ROOT / "services"), str(ROOT)]),
    }
    notification = start_notification(
        group,
        tracing=tracing,
        extra=common,
        name=f"{mode.key}-notification",
        command=_command(mode, "notification"),
    )  # mailing nobody: /notification/xray sends no email
    usermgmt = start_usermgmt(
        group,
        tracing=tracing,
        database=database.env(),
        notification_port=notification.port,
        # An address, not "localhost": name resolution is not what is measured.
        notification_host="127.0.0.1",
        extra={**common, **mode.usermgmt_env},
        name=f"{mode.key}-usermgmt",
        command=_command(mode, "usermgmt"),
    )
    return Chain(usermgmt=usermgmt, notification=notification)


def _tracing_env(mode: Mode, sinks: Sinks) -> dict[str, str]:
    if mode.telemetry is Telemetry.NONE or mode.peer:
        env = {"AWS_XRAY_SDK_ENABLED": "false"}
    else:  # every request sampled, by the local rules X-Ray's mode and the OTel mode share
        env = tracing_env(sinks.udp.address, sample_all=True)
    if mode.telemetry is Telemetry.OTLP:
        env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = sinks.otlp.traces_url
    return env


def _command(mode: Mode, service: str) -> list[str] | None:
    """The OpenTelemetry launcher for the same service, or `python -m <service>` (None)."""
    if mode.peer:
        return [sys.executable, "-m", OTEL_LAUNCHER, service]
    return None
