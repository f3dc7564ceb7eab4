"""Fixtures for the load tests: a scratch database and a process group (SMTP: tests/conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import ProcessGroup
from tests.support.fixtures import database_or_fail
from tests.support.mariadb import ScratchDatabase


@pytest.fixture
def database() -> Iterator[ScratchDatabase]:
    with database_or_fail("usermgmt_load") as db:
        yield db


@pytest.fixture
def group(tmp_path: Path) -> Iterator[ProcessGroup]:
    with ProcessGroup(tmp_path / "logs") as processes:
        yield processes
