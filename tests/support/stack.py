"""The call chain as real processes for the tests: devstack's services over a scratch MariaDB
database, with what tests want of them (the cheapest bcrypt cost)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import devstack
from devstack import ProcessGroup, ServiceProcess, start_notification

from .mariadb import ScratchDatabase

# Message the SDK logs when an instrumented call finds no segment (LOG_ERROR).
MISSING_SEGMENT = "cannot find the current segment"


@dataclass
class Chain:
    usermgmt: ServiceProcess
    notification: ServiceProcess

    @property
    def processes(self) -> tuple[ServiceProcess, ServiceProcess]:
        return (self.usermgmt, self.notification)


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
    """User management on `database`; without `notification_port`, the notification service
    is down. `db_port` reaches the database through another port (a relay)."""
    return devstack.start_usermgmt(
        group,
        tracing=tracing,
        database=database.env(port=db_port),
        notification_port=notification_port,
        # The policy is tested; the hashing cost is not.
        extra={"BCRYPT_ROUNDS": "4", **(extra or {})},
        name=name,
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
