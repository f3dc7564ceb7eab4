"""The database: engine, sessions, the schema created on first use, and a deadline on all of it.

If the database is down when the service starts, it still starts: the schema is created by
the first request that finds the database back, and until then requests get a 503.

Every piece of database work runs through `Database.run`: in a worker thread of its own pool,
at most `max_concurrency` at once (the next refused at once with DatabaseBusy), and answered
within `deadline` seconds (else DatabaseTimeout), however long the database takes. A thread
still blocked after its deadline keeps its place until the driver's own timeouts, the same
length, end it; so a frozen database can hold `max_concurrency` threads and no more, and
nothing else (the health checks least of all) waits for them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import anyio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from .models import Base

log = logging.getLogger(__name__)

T = TypeVar("T")
UNKNOWN_DATABASE = 1049  # MySQL: the schema named in DB_NAME does not exist yet
# Query parameters whose values are shown in logs; every other value is hidden, because
# dialects pass the query string to the driver's connect(): ?password=, ?passwd=, pyodbc's
# odbc_connect=...;PWD=..., tokens, key files.
SHOWN_QUERY_VALUES = frozenset({"charset", "sslmode", "ssl_mode"})
HIDDEN = "REDACTED"  # unreserved characters: not percent-encoded in the URL


class DatabaseBusy(Exception):
    """Every database slot is taken: refused without touching the database."""


class DatabaseTimeout(TimeoutError):
    """The database did not finish the work within the deadline."""


class Database:
    def __init__(self, url: URL, *, deadline: float, max_concurrency: int) -> None:
        self.url = url
        self.deadline = deadline
        self.max_concurrency = max_concurrency
        self.engine = _engine(url, deadline, max_concurrency)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._schema_ready = False
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._threads = anyio.CapacityLimiter(max_concurrency)

    async def run(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in a worker thread, with a deadline; see the module's docstring."""
        if not self._slots.acquire(blocking=False):
            raise DatabaseBusy(f"all {self.max_concurrency} database slots are in use")
        job = _Job(work, self._in_session, self._slots)
        try:
            with anyio.fail_after(self.deadline):
                return await anyio.to_thread.run_sync(
                    job.run, abandon_on_cancel=True, limiter=self._threads
                )
        except TimeoutError:
            raise DatabaseTimeout(f"no answer within {self.deadline:g} s") from None
        finally:
            job.abandon()

    def _in_session(self, work: Callable[[Session], T]) -> T:
        self.ensure_schema()
        with self.sessions() as session:
            return work(session)

    def describe(self) -> str:
        return self.describe_url(self.url)

    @staticmethod
    def describe_url(url: URL) -> str:
        """`url` for a log line: the password and the query's values hidden, but not that
        they are set."""
        query = {
            key: value if key in SHOWN_QUERY_VALUES else _hidden(value)
            for key, value in url.query.items()
        }
        return url.set(query=query).render_as_string(hide_password=True)

    def ensure_schema(self) -> None:
        """Create the schema (database) and the `users` table if they are missing."""
        if self._schema_ready:
            return
        with self._lock:
            if self._schema_ready:
                return
            try:
                Base.metadata.create_all(self.engine)
            except OperationalError as exc:
                if getattr(exc.orig, "args", (None,))[0] != UNKNOWN_DATABASE:
                    raise
                self._create_database()
                Base.metadata.create_all(self.engine)
            self._schema_ready = True
            log.info("schema ready in %s", self.describe())

    def _create_database(self) -> None:
        name = self.url.database
        log.info("creating database %s", name)
        # URL.set(database=None) would keep the database: None there means "unchanged".
        server = create_engine(self.url._replace(database=None), poolclass=NullPool)
        try:
            with server.begin() as conn:
                conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"))
        finally:
            server.dispose()

    def dispose(self) -> None:
        self.engine.dispose()


def _hidden(value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    return HIDDEN if isinstance(value, str) else tuple(HIDDEN for _ in value)


class _Job(Generic[T]):
    """One `Database.run`: its slot is given back exactly once, by the thread when it ran,
    else by `abandon` (the caller gave up before a thread picked it up)."""

    def __init__(
        self,
        work: Callable[[Session], T],
        in_session: Callable[[Callable[[Session], T]], T],
        slots: threading.BoundedSemaphore,
    ) -> None:
        self._work = work
        self._in_session = in_session
        self._slots = slots
        self._lock = threading.Lock()
        self._claimed = False

    def _claim(self) -> bool:
        with self._lock:
            claimed, self._claimed = self._claimed, True
            return not claimed

    def run(self) -> T:
        if not self._claim():
            raise DatabaseTimeout("abandoned before it started")
        try:
            return self._in_session(self._work)
        finally:
            self._slots.release()

    def abandon(self) -> None:
        if self._claim():
            self._slots.release()


def _engine(url: URL, deadline: float, pool_size: int) -> Engine:
    # No statement parameters (user data: emails, password hashes) in SQLAlchemy's error
    # messages or logs, which may end up in a log line or a trace.
    if url.get_backend_name() == "sqlite":
        # One file shared by the thread pool's workers.
        return create_engine(url, hide_parameters=True, connect_args={"check_same_thread": False})
    return create_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,  # a connection the server dropped is replaced, not handed out
        pool_recycle=3600,
        # Database.run never has more than pool_size sessions at once: none waits for the pool.
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=deadline,
        # Each network wait ends within the deadline, so a thread whose caller has given up
        # (Database.run answered DatabaseTimeout) is free again soon after.
        connect_args={
            "connect_timeout": deadline,
            "read_timeout": deadline,
            "write_timeout": deadline,
        },
    )
