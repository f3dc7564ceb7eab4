"""Fixtures for the local X-Ray tests; helpers live in tests/support and scenario.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import ProcessGroup
from tests.support.fixtures import database_or_fail
from tests.support.xray_local import LocalXRay, start_xray_local

from .scenario import Scenario, run_scenario


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[ProcessGroup]:
    with ProcessGroup(tmp_path / "logs") as group:
        yield group


@pytest.fixture
def xray(processes: ProcessGroup) -> LocalXRay:
    """A fresh daemon with default settings on free loopback ports."""
    return start_xray_local(processes)


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The services (two user management instances, notification V1 and V2, MariaDB) sending
    to one daemon, after a fixed set of requests: what the map tests read."""
    with (
        database_or_fail("xray_local_test") as database,
        ProcessGroup(tmp_path_factory.mktemp("scenario")) as group,
    ):
        yield run_scenario(group, database)
