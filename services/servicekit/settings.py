"""What every service reads besides its own settings: where to listen, how to log, tracing."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tracing.config import TracingSettings


class LogFormat(StrEnum):
    TEXT = "text"  # for people: one line per event
    JSON = "json"  # for log pipelines (Fluent Bit, CloudWatch): one JSON object per line


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class ServiceSettings(BaseSettings):
    """Field names are the environment variables; each service subclasses this."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    host: str = Field("0.0.0.0", validation_alias="HOST")
    port: int = Field(8000, ge=1, le=65535, validation_alias="PORT")
    log_level: LogLevel = Field(LogLevel.INFO, validation_alias="LOG_LEVEL")
    log_format: LogFormat = Field(LogFormat.TEXT, validation_alias="LOG_FORMAT")
    # uvicorn's own variable: the proxies (addresses, CIDR blocks, or *) whose X-Forwarded-For
    # and X-Forwarded-Proto are believed. From anyone else they are ignored.
    forwarded_allow_ips: str = Field(
        "127.0.0.1,::1", min_length=1, validation_alias="FORWARDED_ALLOW_IPS"
    )
    # Capacity (servicekit.admission, servicekit.bodylimit): past it, refused at once.
    max_concurrent_requests: int = Field(
        100, ge=1, le=10_000, validation_alias="MAX_CONCURRENT_REQUESTS"
    )
    max_request_body_bytes: int = Field(
        1024 * 1024, ge=1024, le=100 * 1024 * 1024, validation_alias="MAX_REQUEST_BODY_BYTES"
    )
    request_body_timeout_seconds: float = Field(
        10.0, gt=0, le=300, validation_alias="REQUEST_BODY_TIMEOUT_SECONDS"
    )
    # On SIGTERM: how long requests in flight (and their background work) may finish before
    # what is left is cancelled. Kubernetes' grace period must cover it plus the preStop sleep.
    shutdown_grace_seconds: int = Field(10, ge=1, le=300, validation_alias="SHUTDOWN_GRACE_SECONDS")
    tracing: TracingSettings = Field(default_factory=lambda: TracingSettings())
