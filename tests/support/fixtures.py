"""Pieces the test folders' conftest files share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .mariadb import DatabaseUnavailable, ScratchDatabase, scratch_database


@contextmanager
def database_or_fail(prefix: str = "usermgmt_test") -> Iterator[ScratchDatabase]:
    """A scratch database; without MariaDB the test fails saying how to start it, never skips."""
    try:
        with scratch_database(prefix) as database:
            yield database
    except DatabaseUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
