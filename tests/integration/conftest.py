"""Fixtures for tests that run the services as real processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import ProcessGroup
from tests.support.fixtures import database_or_fail
from tests.support.mariadb import ScratchDatabase
from tests.support.modes import (
    MODES,
    CollectedSegments,
    StoredSegments,
    TracedChain,
    otel_env,
)
from tests.support.smtp import SmtpServer
from tests.support.stack import Chain, running_chain
from tests.support.tcp_proxy import TcpProxy
from tests.support.udp import SegmentCollector
from tests.support.xray_local import LocalXRay, start_xray_local


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


@pytest.fixture(scope="session")
def otel_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalXRay]:
    """A local X-Ray daemon the OpenTelemetry chain sends its spans to (OTLP/HTTP)."""
    with ProcessGroup(tmp_path_factory.mktemp("otel-daemon")) as group:
        yield start_xray_local(group)


@pytest.fixture(scope="session")
def otel_chain(
    tmp_path_factory: pytest.TempPathFactory,
    shared_database: ScratchDatabase,
    otel_daemon: LocalXRay,
    smtp: SmtpServer,
) -> Iterator[Chain]:
    """`chain` with TRACING_SDK=otel: spans to `otel_daemon`, which stores them as segments."""
    with running_chain(
        tmp_path_factory.mktemp("otel-chain"),
        tracing=otel_env(otel_daemon),
        database=shared_database,
        smtp_port=smtp.port,
    ) as chain:
        yield chain


@pytest.fixture(params=MODES)
def traced_chain(request: pytest.FixtureRequest) -> TracedChain:
    """The shared chain in each tracing mode, with where its documents are read."""
    if request.param == "otel":
        daemon: LocalXRay = request.getfixturevalue("otel_daemon")
        return TracedChain("otel", request.getfixturevalue("otel_chain"), StoredSegments(daemon))
    collector: SegmentCollector = request.getfixturevalue("collector")
    return TracedChain("xray", request.getfixturevalue("chain"), CollectedSegments(collector))


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
