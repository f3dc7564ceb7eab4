"""Notification settings; mail variables keep the original service's AWS_MAIL_SERVER_* names."""

from __future__ import annotations

from typing import Self

from pydantic import EmailStr, Field, SecretStr, model_validator

from servicekit import ServiceSettings

from .faults import MAX_LATENCY_MS, Faults


class Settings(ServiceSettings):
    port: int = Field(8096, ge=1, le=65535, validation_alias="PORT")
    app_version: str = Field("V1", pattern=r"^V[0-9]{1,3}$", validation_alias="APP_VERSION")

    mail_server_host: str = Field(
        "localhost", min_length=1, validation_alias="AWS_MAIL_SERVER_HOST"
    )
    mail_server_port: int = Field(587, ge=1, le=65535, validation_alias="AWS_MAIL_SERVER_PORT")
    mail_server_username: str | None = Field(None, validation_alias="AWS_MAIL_SERVER_USERNAME")
    mail_server_password: SecretStr | None = Field(
        None, validation_alias="AWS_MAIL_SERVER_PASSWORD"
    )
    mail_from_address: EmailStr = Field(
        "notification@example.com", validation_alias="AWS_MAIL_SERVER_FROM_ADDRESS"
    )
    mail_timeout_seconds: float = Field(10.0, gt=0, le=120, validation_alias="MAIL_TIMEOUT_SECONDS")
    # Accepted emails not yet delivered; past it /send answers 503 (mailer.py).
    mail_backlog: int = Field(100, ge=1, le=10_000, validation_alias="MAIL_BACKLOG")
    # SMTP connections at once.
    mail_concurrency: int = Field(4, ge=1, le=100, validation_alias="MAIL_CONCURRENCY")

    # Fault injection (faults.py): off unless enabled; FAULT_* are the faults it starts with.
    fault_injection_enabled: bool = Field(False, validation_alias="FAULT_INJECTION_ENABLED")
    fault_error_rate: float = Field(0.0, ge=0, le=1, validation_alias="FAULT_ERROR_RATE")
    fault_error_status: int = Field(500, ge=400, le=599, validation_alias="FAULT_ERROR_STATUS")
    fault_latency_ms: int = Field(0, ge=0, le=MAX_LATENCY_MS, validation_alias="FAULT_LATENCY_MS")

    @model_validator(mode="after")
    def _faults_need_enabling(self) -> Self:
        if self.initial_faults().active and not self.fault_injection_enabled:
            raise ValueError(
                "FAULT_ERROR_RATE or FAULT_LATENCY_MS is set: set FAULT_INJECTION_ENABLED=true too"
            )
        return self

    def initial_faults(self) -> Faults:
        return Faults(
            error_rate=self.fault_error_rate,
            error_status=self.fault_error_status,
            latency_ms=self.fault_latency_ms,
        )

    @property
    def default_tracing_name(self) -> str:
        """V1-Notification-Microservice, V2-...: each version is its own node on the map."""
        return f"{self.app_version}-Notification-Microservice"
