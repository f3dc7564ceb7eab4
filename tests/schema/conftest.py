"""Fixtures for fuzzing the services: the real call chain, traced, over MariaDB and SMTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis

from devstack import (
    NOTIFICATION_HEALTH,
    NOTIFICATION_READINESS,
    USERMGMT_HEALTH,
    USERMGMT_READINESS,
)
from tests.support.mariadb import ScratchDatabase
from tests.support.smtp import SmtpServer
from tests.support.stack import Chain, running_chain
from tests.support.udp import SegmentCollector

from .fuzzing import FuzzedService, load_schema


@pytest.fixture(scope="package")
def chain(
    tmp_path_factory: pytest.TempPathFactory,
    shared_database: ScratchDatabase,
    collector: SegmentCollector,
) -> Iterator[Chain]:
    """notification V1 and user management, sampling every request, sending to `collector`;
    the notification service's emails go to an SMTP sink."""
    smtp = SmtpServer()
    try:
        with running_chain(
            tmp_path_factory.mktemp("schema"),
            daemon_address=collector.address,
            database=shared_database,
            smtp_port=smtp.port,
        ) as chain:
            yield chain
    finally:
        smtp.stop()


@pytest.fixture(scope="package")
def notification(chain: Chain, collector: SegmentCollector) -> FuzzedService:
    name = "V1-Notification-Microservice"
    untraced = frozenset({NOTIFICATION_HEALTH, NOTIFICATION_READINESS})
    return FuzzedService(chain.notification, name, untraced, collector, list(chain.processes))


@pytest.fixture(scope="package")
def usermgmt(chain: Chain, collector: SegmentCollector) -> FuzzedService:
    name = "User-Management-Microservice"
    untraced = frozenset({USERMGMT_HEALTH, USERMGMT_READINESS})
    return FuzzedService(chain.usermgmt, name, untraced, collector, list(chain.processes))


@pytest.fixture(scope="package")
def notification_schema(notification: FuzzedService) -> schemathesis.BaseSchema:
    return load_schema(f"{notification.process.base_url}/notification/openapi.json")


@pytest.fixture(scope="package")
def usermgmt_schema(usermgmt: FuzzedService) -> schemathesis.BaseSchema:
    return load_schema(f"{usermgmt.process.base_url}/usermgmt/openapi.json")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """schemathesis (4.32) reads the test's `_nodeid`, which pytest 9.2 no longer has: without
    it every `from_fixture` test fails with an AttributeError before running anything."""
    if not hasattr(item, "_nodeid"):
        item._nodeid = item.nodeid  # type: ignore[attr-defined]
