"""Fixtures shared by every test folder; helpers live in tests/support."""

import sys
from collections.abc import Iterator

import pytest

from tests.support.fixtures import database_or_fail
from tests.support.mariadb import ScratchDatabase
from tests.support.smtp import SmtpServer
from tests.support.udp import SegmentCollector


@pytest.fixture(scope="session")
def collector() -> Iterator[SegmentCollector]:
    """The one UDP socket every traced thing in the run sends to, read as the daemon reads.

    Tests find their own documents by trace id (each request's id is new), so in-process
    tracers, the service processes and the stacks shared by many tests all send here."""
    collector = SegmentCollector()
    yield collector
    collector.close()


@pytest.fixture(scope="session")
def shared_database() -> Iterator[ScratchDatabase]:
    """A scratch MariaDB database for the stacks that serve a whole session or package."""
    with database_or_fail() as db:
        yield db


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback for one test; tests/integration shares one
    for the session."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def _close_the_sdks_global_socket() -> Iterator[None]:
    """Importing aws_xray_sdk builds a global recorder with a UDP socket the project never
    uses (it has its own Tracer); close it so the run ends without a ResourceWarning."""
    yield
    sdk = sys.modules.get("aws_xray_sdk.core")
    if sdk is not None:
        sdk.xray_recorder.emitter._socket.close()
