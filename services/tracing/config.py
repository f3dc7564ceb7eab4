"""Tracing settings, read from the X-Ray SDK's own environment variables.

This module must not import `aws_xray_sdk`: the SDK parses AWS_XRAY_DAEMON_ADDRESS while it
is being imported and fails with a bare traceback on a bad value. Validating here first lets
a service stop with one clear line instead.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, FilePath, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DAEMON_ADDRESS = "127.0.0.1:2000"
DAEMON_ADDRESS_FORMS = (
    "'host:port' or 'tcp:host:port udp:host:port' (for example 127.0.0.1:2000 or "
    "'tcp:xray-service.default:2000 udp:xray-service.default:2000')"
)
# RFC 1123 host names; the SDK splits on ':' so IPv6 literals are not accepted either.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.IPv4Address(self.host)
        except ValueError:
            return False
        return True

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class DaemonAddress:
    """Where segments go (UDP) and where the sampler polls rules (TCP)."""

    udp: Endpoint
    tcp: Endpoint

    @classmethod
    def parse(cls, text: str) -> DaemonAddress:
        """Accept exactly the two forms the X-Ray SDKs document, or raise ValueError.

        Parts are split on single spaces exactly as the SDK splits them: anything it would
        choke on at import (a stray space included) is refused here with a clear message.
        """
        parts = text.split(" ")
        if len(parts) == 1:
            endpoint = _endpoint(parts[0])
            return cls(udp=endpoint, tcp=endpoint)
        if len(parts) == 2:
            by_protocol: dict[str, Endpoint] = {}
            for part in parts:
                protocol, _, rest = part.partition(":")
                if protocol not in ("tcp", "udp") or protocol in by_protocol:
                    raise ValueError(f"expected {DAEMON_ADDRESS_FORMS}")
                by_protocol[protocol] = _endpoint(rest)
            return cls(udp=by_protocol["udp"], tcp=by_protocol["tcp"])
        raise ValueError(f"expected {DAEMON_ADDRESS_FORMS}")

    def __str__(self) -> str:
        if self.udp == self.tcp:
            return str(self.udp)
        return f"tcp:{self.tcp} udp:{self.udp}"


def _endpoint(text: str) -> Endpoint:
    host, sep, port_text = text.rpartition(":")
    if not sep or not _HOSTNAME.match(host) or not port_text.isdigit():
        raise ValueError(f"expected {DAEMON_ADDRESS_FORMS}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range; expected {DAEMON_ADDRESS_FORMS}")
    return Endpoint(host, port)


def _parse_daemon_address(value: Any) -> Any:
    return DaemonAddress.parse(value) if isinstance(value, str) else value


class ContextMissing(StrEnum):
    """What an instrumented call does when no segment is open (the SDK's three strategies)."""

    RUNTIME_ERROR = "RUNTIME_ERROR"
    LOG_ERROR = "LOG_ERROR"
    IGNORE_ERROR = "IGNORE_ERROR"


class TracingSettings(BaseSettings):
    """The X-Ray settings both services share. Field names are the environment variables."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    enabled: bool = Field(True, validation_alias="AWS_XRAY_SDK_ENABLED")
    name: str | None = Field(
        None, min_length=1, max_length=200, validation_alias="AWS_XRAY_TRACING_NAME"
    )
    daemon_address: Annotated[DaemonAddress, NoDecode, BeforeValidator(_parse_daemon_address)] = (
        Field(
            DaemonAddress.parse(DEFAULT_DAEMON_ADDRESS), validation_alias="AWS_XRAY_DAEMON_ADDRESS"
        )
    )
    context_missing: ContextMissing = Field(
        ContextMissing.LOG_ERROR, validation_alias="AWS_XRAY_CONTEXT_MISSING"
    )
    # A local rules file (the SDK's JSON format) replaces the rules polled from the daemon.
    sampling_rules: FilePath | None = Field(None, validation_alias="XRAY_SAMPLING_RULES")
    # Reported in the segments' aws.eks section when running in Kubernetes.
    cluster_name: str | None = Field(None, validation_alias="EKS_CLUSTER_NAME")

    @field_validator("sampling_rules")
    @classmethod
    def _rules_are_readable(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        try:
            rules = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read sampling rules from {path}: {exc}") from exc
        valid = isinstance(rules, dict) and rules.get("version") in (1, 2) and "default" in rules
        if not valid:
            raise ValueError(
                f"{path} is not an X-Ray local sampling rules file: it needs "
                '"version": 1 or 2 and a "default" rule'
            )
        return path
