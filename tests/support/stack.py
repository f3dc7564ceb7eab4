"""The call chain as real processes: notification and user management on loopback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .mariadb import ScratchDatabase
from .ports import free_tcp_port
from .processes import ProcessGroup, ServiceProcess

SAMPLE_ALL_RULES = Path(__file__).resolve().parent.parent / "data" / "sample-all.json"
USERMGMT_HEALTH = "/usermgmt/health-status"
NOTIFICATION_HEALTH = "/notification/health-status"
# Message the SDK logs when an instrumented call finds no segment (LOG_ERROR).
MISSING_SEGMENT = "cannot find the current segment"


@dataclass
class Chain:
    usermgmt: ServiceProcess
    notification: ServiceProcess

    @property
    def processes(self) -> tuple[ServiceProcess, ServiceProcess]:
        return (self.usermgmt, self.notification)


def tracing_env(daemon_address: str, *, sample_all: bool = True) -> dict[str, str]:
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
    extra: Mapping[str, str] | None = None,
    name: str | None = None,
) -> ServiceProcess:
    env = {
        "APP_VERSION": version,
        "AWS_MAIL_SERVER_HOST": "127.0.0.1",
        "AWS_MAIL_SERVER_PORT": str(smtp_port or free_tcp_port()),
        **tracing,
        **(extra or {}),
    }
    return group.start_module(
        name or f"notification-{version.lower()}",
        "notification",
        env=env,
        port=free_tcp_port(),
        ready_path=NOTIFICATION_HEALTH,
    )


def start_usermgmt(
    group: ProcessGroup,
    *,
    tracing: Mapping[str, str],
    database: ScratchDatabase,
    notification_port: int | None = None,
    db_port: int | None = None,
    extra: Mapping[str, str] | None = None,
    name: str = "usermgmt",
) -> ServiceProcess:
    """User management; without `notification_port`, the notification service is down."""
    env = {
        **database.env(port=db_port),
        "NOTIFICATION_SERVICE_HOST": "localhost",
        "NOTIFICATION_SERVICE_PORT": str(notification_port or free_tcp_port()),
        "BCRYPT_ROUNDS": "4",  # the policy is tested; the hashing cost is not
        **tracing,
        **(extra or {}),
    }
    return group.start_module(
        name, "usermgmt", env=env, port=free_tcp_port(), ready_path=USERMGMT_HEALTH
    )


def start_chain(
    group: ProcessGroup,
    *,
    tracing: Mapping[str, str],
    database: ScratchDatabase,
    smtp_port: int | None = None,
    extra: Mapping[str, str] | None = None,
) -> Chain:
    notification = start_notification(group, tracing=tracing, smtp_port=smtp_port, extra=extra)
    assert notification.port is not None
    usermgmt = start_usermgmt(
        group, tracing=tracing, database=database, notification_port=notification.port, extra=extra
    )
    return Chain(usermgmt=usermgmt, notification=notification)
