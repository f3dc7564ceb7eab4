"""Fixtures for tests that run the services as real processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import ProcessGroup
from tests.support.fixtures import database_or_fail
from tests.support.mariadb import ScratchDatabase
from tests.support.smtp import SmtpServer
from tests.support.stack import Chain, running_chain
from tests.support.tcp_proxy import TcpProxy
from tests.support.udp import SegmentCollector


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def database() -> Iterator[ScratchDatabase]:
    """A database of this test's own (`shared_database`, tests/conftest.py, is the stack's)."""
    with database_or_fail() as db:
        yield db


@pytest.fixture(scope="session")
def chain(
    tmp_path_factory: pytest.TempPathFactory,
    shared_database: ScratchDatabase,
    collector: SegmentCollector,
    smtp: SmtpServer,
) -> Iterator[Chain]:
    """notification V1 and user management over MariaDB, sampling every request, sending to
    `collector`: the stack most tests share, telling their traces apart by id."""
    with running_chain(
        tmp_path_factory.mktemp("chain"),
        daemon_address=collector.address,
        database=shared_database,
        smtp_port=smtp.port,
    ) as chain:
        yield chain


@pytest.fixture
def group(tmp_path: Path) -> Iterator[ProcessGroup]:
    """Processes for one test only."""
    with ProcessGroup(tmp_path / "logs") as processes:
        yield processes


@pytest.fixture
def relay(database: ScratchDatabase) -> Iterator[TcpProxy]:
    """A relay to `database` the test can cut, restore, freeze and thaw."""
    proxy = TcpProxy((database.host, database.port))
    yield proxy
    proxy.close()
