"""Tracing settings, read from the X-Ray SDK's own environment variables, TRACING_SDK (which
backend records) and the standard OTEL_* variables the OpenTelemetry backend interprets.

This module must not import `aws_xray_sdk` or OpenTelemetry: the X-Ray SDK parses
AWS_XRAY_DAEMON_ADDRESS while it is being imported and fails with a bare traceback on a bad
value. Validating here first lets a service stop with one clear line instead.

OTEL_* variables the OpenTelemetry SDK reads itself when the exporter and the batch processor
are built (OTEL_BSP_*, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, _HEADERS, _COMPRESSION,
_CERTIFICATE, OTEL_RESOURCE_ATTRIBUTES) are left to it and not repeated here.
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


class TracingSdk(StrEnum):
    """Which library records the traces (TRACING_SDK)."""

    XRAY = "xray"  # the AWS X-Ray SDK for Python: segment documents over UDP to the daemon
    OTEL = "otel"  # OpenTelemetry: OTLP/HTTP spans to a collector, X-Ray ids and sampling


class OtelSampler(StrEnum):
    """OTEL_TRACES_SAMPLER values the OpenTelemetry backend accepts. Each names the sampler of
    requests that arrive without a decision; an upstream decision (Sampled=0/1 in
    X-Amzn-Trace-Id) is always honoured, as the X-Ray SDK honours it, so the
    `parentbased_` forms and the plain ones behave alike."""

    XRAY = "xray"  # X-Ray sampling rules: the daemon's, or XRAY_SAMPLING_RULES (the default)
    ALWAYS_ON = "always_on"
    ALWAYS_OFF = "always_off"
    TRACE_ID_RATIO = "traceidratio"
    PARENT_BASED_ALWAYS_ON = "parentbased_always_on"
    PARENT_BASED_ALWAYS_OFF = "parentbased_always_off"
    PARENT_BASED_TRACE_ID_RATIO = "parentbased_traceidratio"

    @property
    def root(self) -> str:
        """The sampler for requests without an upstream decision."""
        return self.value.removeprefix("parentbased_")


DEFAULT_OTLP_ENDPOINT = "http://localhost:4318"
OTLP_TRACES_PATH = "/v1/traces"


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

    sdk: TracingSdk = Field(TracingSdk.XRAY, validation_alias="TRACING_SDK")
    # --- read by the OpenTelemetry backend only (TRACING_SDK=otel) ------------------------
    otel_disabled: bool = Field(False, validation_alias="OTEL_SDK_DISABLED")
    # The service's name when AWS_XRAY_TRACING_NAME does not give one.
    otel_service_name: str | None = Field(
        None, min_length=1, max_length=200, validation_alias="OTEL_SERVICE_NAME"
    )
    otlp_traces_endpoint: str | None = Field(
        None, min_length=1, validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    otlp_endpoint: str | None = Field(
        None, min_length=1, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    otel_sampler: OtelSampler = Field(OtelSampler.XRAY, validation_alias="OTEL_TRACES_SAMPLER")
    # The ratio of the traceidratio samplers.
    otel_sampler_arg: float = Field(1.0, ge=0, le=1, validation_alias="OTEL_TRACES_SAMPLER_ARG")

    @property
    def active(self) -> bool:
        """Whether anything is recorded: AWS_XRAY_SDK_ENABLED=false turns tracing off in
        either mode, OTEL_SDK_DISABLED=true in the OpenTelemetry one."""
        return self.enabled and not (self.sdk is TracingSdk.OTEL and self.otel_disabled)

    @property
    def traces_endpoint(self) -> str:
        """Where OTLP/HTTP spans go, as the OTLP exporter specification resolves it: the
        traces endpoint as given, else the base endpoint with /v1/traces, else localhost."""
        if self.otlp_traces_endpoint:
            return self.otlp_traces_endpoint
        base = self.otlp_endpoint or DEFAULT_OTLP_ENDPOINT
        return base.rstrip("/") + OTLP_TRACES_PATH

    @field_validator("otlp_traces_endpoint", "otlp_endpoint")
    @classmethod
    def _endpoint_is_http(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return url

    @field_validator("otel_sampler", mode="before")
    @classmethod
    def _sampler_name(cls, value: Any) -> Any:
        # The specification's names are case-insensitive.
        return value.strip().lower() if isinstance(value, str) else value

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
