"""The real MariaDB/MySQL server the integration tests need, with one database per run."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pymysql

HOST = os.environ.get("TEST_DB_HOST", "127.0.0.1")
PORT = int(os.environ.get("TEST_DB_PORT", "3306"))
USER = os.environ.get("TEST_DB_USER", "root")
PASSWORD = os.environ.get("TEST_DB_PASSWORD", "")

HOW_TO_START = (
    "start it with: mkdir -p /run/mysqld && chown mysql /run/mysqld && "
    "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd "
    "(or point TEST_DB_HOST/TEST_DB_PORT/TEST_DB_USER/TEST_DB_PASSWORD at a MySQL server)"
)


class DatabaseUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class ScratchDatabase:
    host: str
    port: int
    user: str
    password: str
    name: str

    def env(self, host: str | None = None, port: int | None = None) -> dict[str, str]:
        """The Spring-style variables the user management service reads."""
        return {
            "DB_HOSTNAME": host or self.host,
            "DB_PORT": str(port or self.port),
            "DB_NAME": self.name,
            "DB_USERNAME": self.user,
            "DB_PASSWORD": self.password,
        }

    def connect(self) -> pymysql.Connection:
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.name,
            autocommit=True,
        )

    def query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())


def server_connection(database: str | None = None) -> pymysql.Connection:
    try:
        return pymysql.connect(
            host=HOST,
            port=PORT,
            user=USER,
            password=PASSWORD,
            database=database,
            autocommit=True,
            connect_timeout=5,
        )
    except pymysql.err.OperationalError as exc:
        raise DatabaseUnavailable(
            f"MariaDB/MySQL is not reachable at {HOST}:{PORT} as {USER!r} ({exc}); {HOW_TO_START}"
        ) from exc


@contextmanager
def scratch_database(prefix: str = "usermgmt_test") -> Iterator[ScratchDatabase]:
    """A database name nobody else uses, dropped afterwards. The service creates it."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    server_connection().close()  # fail early, clearly, if the server is not there
    try:
        yield ScratchDatabase(HOST, PORT, USER, PASSWORD, name)
    finally:
        with server_connection() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
