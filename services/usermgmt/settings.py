"""User management settings; the variable names are those of the original Spring Boot service."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from servicekit import ServiceSettings

DEFAULT_TRACING_NAME = "User-Management-Microservice"
EXAMPLE_URL = "mysql+pymysql://user:pass@host:3306/usermgmt"


class ConnectionPolicy(StrEnum):
    """How the notification client uses its connections.

    keep-alive: reuse connections, the lower latency for a call on its own (make bench).
    A connection-level balancer (kube-proxy, Docker's DNS round robin) then sends every
    request on a connection to the backend that connection first reached, so a V1/V2 canary
    is split per connection, not per request.
    per-request: a new connection for every call, closed by the server after its answer, so
    the balancer picks a backend for every request and the split follows the replica ratio.
    """

    KEEP_ALIVE = "keep-alive"
    PER_REQUEST = "per-request"


class Settings(ServiceSettings):
    port: int = Field(8095, ge=1, le=65535, validation_alias="PORT")

    # DATABASE_URL wins; else DB_HOSTNAME selects MySQL; else an embedded SQLite file.
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    db_hostname: str | None = Field(None, min_length=1, validation_alias="DB_HOSTNAME")
    db_port: int = Field(3306, ge=1, le=65535, validation_alias="DB_PORT")
    db_name: str = Field("usermgmt", pattern=r"^[A-Za-z0-9_$-]{1,64}$", validation_alias="DB_NAME")
    db_username: str = Field("root", min_length=1, validation_alias="DB_USERNAME")
    db_password: SecretStr = Field(SecretStr(""), validation_alias="DB_PASSWORD")
    sqlite_path: Path = Field(Path("usermgmt.db"), validation_alias="SQLITE_PATH")
    # Every database request answers within this (else 503): less than the probes' period
    # (5 s), so a frozen database never outlasts a probe.
    db_timeout_seconds: float = Field(3.0, gt=0, le=60, validation_alias="DB_TIMEOUT_SECONDS")
    # Database requests at once; the next is refused (503), never queued for a thread.
    db_max_concurrency: int = Field(10, ge=1, le=200, validation_alias="DB_MAX_CONCURRENCY")

    notification_service_host: str = Field(
        "localhost", min_length=1, validation_alias="NOTIFICATION_SERVICE_HOST"
    )
    notification_service_port: int = Field(
        8096, ge=1, le=65535, validation_alias="NOTIFICATION_SERVICE_PORT"
    )
    notification_timeout_seconds: float = Field(
        5.0, gt=0, le=120, validation_alias="NOTIFICATION_TIMEOUT_SECONDS"
    )
    notification_connection_policy: ConnectionPolicy = Field(
        ConnectionPolicy.KEEP_ALIVE, validation_alias="NOTIFICATION_CONNECTION_POLICY"
    )
    # Calls to the notification service at once; the next is refused (503), never queued.
    notification_max_connections: int = Field(
        100, ge=1, le=1000, validation_alias="NOTIFICATION_MAX_CONNECTIONS"
    )
    # Spring's BCryptPasswordEncoder default strength.
    bcrypt_rounds: int = Field(10, ge=4, le=16, validation_alias="BCRYPT_ROUNDS")

    @field_validator("database_url")
    @classmethod
    def _is_database_url(cls, value: str | None) -> str | None:
        """A URL SQLAlchemy parses, for a dialect it has and a driver that is installed: the
        service would otherwise fail on first use, or at start-up with a traceback."""
        if value is None:
            return None
        try:
            url = make_url(value)
        except (ArgumentError, ValueError) as exc:
            raise ValueError(f"not a database URL; expected e.g. {EXAMPLE_URL}") from exc
        try:
            dialect = url.get_dialect()
        except NoSuchModuleError:
            raise ValueError(
                f"no database driver for {url.drivername!r}; expected e.g. {EXAMPLE_URL}"
            ) from None
        try:
            dialect.import_dbapi()
        except ImportError as exc:
            raise ValueError(
                f"{url.drivername!r} needs {exc.name}, which is not installed; "
                f"expected e.g. {EXAMPLE_URL}"
            ) from None
        return value

    @property
    def notification_base_url(self) -> str:
        return f"http://{self.notification_service_host}:{self.notification_service_port}"

    def database(self) -> tuple[URL, str]:
        """The database URL and, for the start-up log, which setting chose it."""
        if self.database_url:
            return make_url(self.database_url), "DATABASE_URL"
        if self.db_hostname:
            url = URL.create(
                "mysql+pymysql",
                username=self.db_username,
                password=self.db_password.get_secret_value() or None,
                host=self.db_hostname,
                port=self.db_port,
                database=self.db_name,
                query={"charset": "utf8mb4"},
            )
            return url, "DB_HOSTNAME"
        path = self.sqlite_path.resolve()
        return URL.create("sqlite+pysqlite", database=str(path)), "embedded SQLite (no DB_HOSTNAME)"
