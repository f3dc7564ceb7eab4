"""Notification settings; mail variables keep the original service's AWS_MAIL_SERVER_* names."""

from __future__ import annotations

from pydantic import EmailStr, Field, SecretStr

from servicekit import ServiceSettings


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

    @property
    def default_tracing_name(self) -> str:
        """V1-Notification-Microservice, V2-...: each version is its own node on the map."""
        return f"{self.app_version}-Notification-Microservice"
