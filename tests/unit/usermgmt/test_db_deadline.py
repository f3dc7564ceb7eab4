"""Database work: a deadline on each piece, a bound on how many at once, refused past it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from usermgmt.db import Database, DatabaseBusy, DatabaseTimeout

pytestmark = pytest.mark.anyio
DEADLINE = 0.2
HANG_GUARD_SECONDS = 10  # only stops a test that hangs


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    url = URL.create("sqlite+pysqlite", database=str(tmp_path / "users.db"))
    db = Database(url, deadline=DEADLINE, max_concurrency=2)
    yield db
    db.dispose()


def blocked_until(event: threading.Event) -> Callable[[Session], int]:
    def work(session: Session) -> int:
        event.wait(HANG_GUARD_SECONDS)
        return int(session.scalar(text("SELECT 1")) or 0)

    return work


async def test_work_answers_with_its_result(database: Database) -> None:
    assert await database.run(lambda session: session.scalar(text("SELECT 41 + 1"))) == 42


async def test_work_past_its_deadline_is_answered_and_keeps_its_slot_until_it_ends(
    database: Database,
) -> None:
    release = threading.Event()
    with anyio.fail_after(HANG_GUARD_SECONDS):
        with pytest.raises(DatabaseTimeout, match="no answer within 0.2 s"):
            await database.run(blocked_until(release))
        with pytest.raises(DatabaseTimeout):
            await database.run(blocked_until(release))
        # Both threads still run: their slots stay taken, the next is refused at once.
        with pytest.raises(DatabaseBusy, match="all 2 database slots are in use"):
            await database.run(lambda session: 1)
        release.set()
        while True:  # the abandoned threads end, and give their slots back
            try:
                assert await database.run(lambda session: 1) == 1
                break
            except DatabaseBusy:
                await anyio.sleep(0.01)
