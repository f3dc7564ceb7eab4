"""The database: engine, sessions, and the schema created on first use.

If the database is down when the service starts, it still starts: the schema is created by
the first request that finds the database back, and until then requests get a 503.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from .models import Base

log = logging.getLogger(__name__)

UNKNOWN_DATABASE = 1049  # MySQL: the schema named in DB_NAME does not exist yet
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30


class Database:
    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine = _engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._schema_ready = False
        self._lock = threading.Lock()

    def describe(self) -> str:
        return self.url.render_as_string(hide_password=True)

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

    def session(self) -> Iterator[Session]:
        self.ensure_schema()
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        # One file shared by the thread pool's workers.
        return create_engine(url, connect_args={"check_same_thread": False})
    return create_engine(
        url,
        pool_pre_ping=True,  # a connection the server dropped is replaced, not handed out
        pool_recycle=3600,
        pool_size=10,
        max_overflow=20,
        pool_timeout=10,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "read_timeout": READ_TIMEOUT_SECONDS,
            "write_timeout": READ_TIMEOUT_SECONDS,
        },
    )
