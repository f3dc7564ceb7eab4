"""SQLAlchemy engine events that record every SQL statement as a call to the database.

The SDK's sqlalchemy_core patch wraps both `Session.execute` and `Connection.execute`, which
on SQLAlchemy 2.x nest (two subsegments per query), and appends to `urllib.parse.uses_netloc`
on every call (a list that grows per query). Engine events fire once per statement the driver
actually runs, on the thread that runs it, and see the statement exactly as sent: with the
driver's placeholders, never the values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext

from ._seam import OutboundCall, Recorder

CALL_ATTRIBUTE = "_traced_call"
DATABASE_TYPES = {"mysql": "MySQL", "sqlite": "SQLite", "postgresql": "PostgreSQL"}


def record_statements(recorder: Recorder, engine: Engine) -> None:
    meta = _SqlMeta(engine)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(
        conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        call = recorder.begin_call(meta.name)
        if call.recorded:
            call.set_sql(meta.for_statement(conn, statement))
            if context is not None:
                setattr(context, CALL_ATTRIBUTE, call)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(
        conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        call: OutboundCall | None = getattr(context, CALL_ATTRIBUTE, None)
        if call is not None:
            delattr(context, CALL_ATTRIBUTE)
            recorder.end_call(call)

    @event.listens_for(engine, "handle_error")
    def _error(exception_context: ExceptionContext) -> None:
        context = exception_context.execution_context
        call: OutboundCall | None = getattr(context, CALL_ATTRIBUTE, None)
        if call is not None:
            delattr(context, CALL_ATTRIBUTE)
        elif exception_context.execution_context is None:
            # Failed before any statement ran (cannot connect): still a failed database call.
            call = recorder.begin_call(meta.name)
            call.set_sql(meta.base)
        if call is not None and call.recorded:
            recorder.end_call(call, without_values(exception_context.original_exception))


# One stand-in class per driver error class name, so the trace keeps the name.
_STAND_INS: dict[str, type[Exception]] = {}
# Where drivers keep an error's code: sqlite3's name for it; MySQL drivers' number is the
# first argument (more precise than the SQLSTATE they also set); psycopg's SQLSTATE.
_NAMED_CODE = "sqlite_errorname"
_SQLSTATE_CODES = ("sqlstate", "pgcode")


def without_values(error: BaseException) -> Exception:
    """A stand-in for a driver's error: its class name and its error code, and where it was
    raised, but never its message. Messages quote data: MySQL's duplicate key error is
    "Duplicate entry 'a@example.com' for key 'email'"."""
    name = type(error).__name__
    stand_in = _STAND_INS.setdefault(name, type(name, (Exception,), {"__module__": __name__}))
    code = _error_code(error)
    return stand_in(f"{name} {code}" if code else name).with_traceback(error.__traceback__)


def _error_code(error: BaseException) -> str | None:
    named = getattr(error, _NAMED_CODE, None)
    if named:
        return str(named)
    if error.args and isinstance(error.args[0], int):
        return str(error.args[0])
    for attribute in _SQLSTATE_CODES:
        value = getattr(error, attribute, None)
        if value:
            return str(value)
    return None


class _SqlMeta:
    """The `sql` section, computed once per engine; the server version once it is known."""

    def __init__(self, engine: Engine) -> None:
        url = engine.url
        dialect = engine.dialect
        database = url.database or ""
        if dialect.name == "sqlite":
            database = Path(database).stem or "memory"
        self.name = f"{database}@{url.host or 'localhost'}"
        self.base: dict[str, str] = {
            "url": _recorded_url(url),
            "database_type": DATABASE_TYPES.get(dialect.name, dialect.name),
            "driver_version": _driver_version(engine),
        }
        if url.username:
            self.base["user"] = url.username
        self._with_version: dict[str, str] | None = None

    def for_statement(self, conn: Connection, statement: str) -> dict[str, str]:
        if self._with_version is None:
            self._with_version = {**self.base, **_server(conn)}
        return {**self._with_version, "sanitized_query": statement, "preparation": "statement"}


def _recorded_url(url: URL) -> str:
    """Driver, user, host, port and database: no password, and no query string, which
    dialects pass to the driver's connect() (?password=, ?passwd=, odbc_connect=...;PWD=)."""
    bare = URL.create(
        url.drivername, username=url.username, host=url.host, port=url.port, database=url.database
    )
    return bare.render_as_string(hide_password=False)


def _server(conn: Connection) -> dict[str, str]:
    dialect = conn.dialect
    found: dict[str, str] = {}
    if getattr(dialect, "is_mariadb", False):
        found["database_type"] = "MariaDB"
    version = dialect.server_version_info
    if version:
        found["database_version"] = ".".join(str(part) for part in version if isinstance(part, int))
    return found


def _driver_version(engine: Engine) -> str:
    dbapi = engine.dialect.dbapi
    name = engine.dialect.driver
    version = getattr(dbapi, "__version__", None) or getattr(dbapi, "sqlite_version", None)
    return f"{name}-{version}" if version else name
