"""The call chain as real processes for the tests: devstack's services over a scratch MariaDB
database, with what tests want of them (the cheapest bcrypt cost)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import devstack
from devstack import ProcessGroup, ServiceProcess, start_notification, tracing_env

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
    version: str = "V1",
    notification_extra: Mapping[str, str] | None = None,
    usermgmt_extra: Mapping[str, str] | None = None,
) -> Chain:
    """Notification `version`, then user management calling it; `extra` goes to both, the
    other two to one each."""
    notification = start_notification(
        group,
        tracing=tracing,
        smtp_port=smtp_port,
        version=version,
        extra={**(extra or {}), **(notification_extra or {})},
    )
    usermgmt = start_usermgmt(
        group,
        tracing=tracing,
        database=database,
        notification_port=notification.port,
        extra={**(extra or {}), **(usermgmt_extra or {})},
    )
    return Chain(usermgmt=usermgmt, notification=notification)


@contextmanager
def running_chain(
    log_dir: Path,
    *,
    daemon_address: str | None = None,
    tracing: Mapping[str, str] | None = None,
    database: ScratchDatabase,
    smtp_port: int,
) -> Iterator[Chain]:
    """The chain for a whole module or session of tests, sampling every request and sending
    to `daemon_address` (or traced as `tracing` says); stopped when the block ends."""
    if tracing is None:
        if daemon_address is None:
            raise ValueError("running_chain needs a daemon_address or tracing variables")
        tracing = tracing_env(daemon_address)
    with ProcessGroup(log_dir) as group:
        yield start_chain(group, tracing=tracing, database=database, smtp_port=smtp_port)
