"""Settings: the real daemon's flags and config.yaml where they apply, plus retention.

Precedence is the daemon's: a command-line flag beats the config file, which beats the
default. The config file is checked as strictly as the daemon checks it (a `Version` of 1
or 2, no unknown keys); keys that only matter for sending to AWS are accepted and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .store import Retention

DEFAULT_ADDRESS = "127.0.0.1:2000"
# OTLP/HTTP's default port (the OTLP specification).
DEFAULT_OTLP_ADDRESS = "127.0.0.1:4318"
OFF = "off"
# The OTLP specification recommends a 64 MiB limit on a request body (after decompression).
# Bodies are parsed on the one thread that also reads UDP and answers queries, so the default
# is lower; SDKs send batches of at most 512 spans, well under 1 MiB.
DEFAULT_OTLP_MAX_BODY_BYTES = 16 * 1024 * 1024
LOG_LEVELS = {
    "dev": "DEBUG",
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "error": "ERROR",
    "prod": "INFO",
}
CONFIG_VERSIONS = (1, 2)
API_TOKEN_VARIABLE = "XRAY_LOCAL_API_TOKEN"
API_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
# config.yaml keys that configure talking to AWS: meaningless here, accepted for drop-in use.
AWS_ONLY_KEYS = {
    "TotalBufferSizeMB",
    "Concurrency",
    "Endpoint",
    "Region",
    "ProxyServer.IdleConnTimeout",
    "ProxyServer.MaxIdleConnsPerHost",
    "ProxyServer.MaxIdleConns",
    "Logging.LogRotation",
    "LocalMode",
    "ResourceARN",
    "RoleARN",
    "Profile",
    "NoVerifySSL",
    "ProxyAddress",
}
USED_KEYS = {
    "Version",
    "Socket.UDPAddress",
    "Socket.TCPAddress",
    "Socket.OTLPAddress",  # xray_local's own: where OTLP/HTTP is received (or "off")
    "Logging.LogLevel",
    "Logging.LogPath",
}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str, what: str, *, allow_port_zero: bool = True) -> Address:
        host, sep, port_text = text.strip().rpartition(":")
        if not sep or not port_text.isdigit():
            raise ConfigError(f"{what} {text!r} is not HOST:PORT (for example 127.0.0.1:2000)")
        port = int(port_text)
        if not (0 if allow_port_zero else 1) <= port <= 65535:
            raise ConfigError(f"{what} {text!r}: port {port} is out of range")
        return cls(host or "0.0.0.0", port)

    @property
    def local_url(self) -> str:
        """Where a person on this machine opens the page (a wildcard bind included)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class OtlpSettings:
    """The OTLP intake: where OTLP/HTTP is received (None: not at all; OTLP over UDP is
    always taken on the UDP address), its body limit, and the awsxrayexporter settings that
    change documents (`indexed_attributes`, `index_all_attributes`)."""

    address: Address | None = Address("127.0.0.1", 4318)
    max_body_bytes: int = DEFAULT_OTLP_MAX_BODY_BYTES
    indexed_attributes: tuple[str, ...] = ()
    index_all_attributes: bool = False


@dataclass(frozen=True)
class Settings:
    udp: Address
    tcp: Address
    otlp: OtlpSettings = OtlpSettings()
    upstream: Address | None = None
    retention: Retention = Retention()
    sampling_rules: Path | None = None
    max_document_bytes: int = 64 * 1024
    log_level: str = "INFO"
    log_file: Path | None = None
    # When set, the API's trace operations (and /stats) require it: see docs/xray-local.md.
    api_token: str | None = None


@dataclass(frozen=True)
class FileConfig:
    """What a daemon config.yaml sets that applies here; None where it is silent."""

    udp: str | None = None
    tcp: str | None = None
    otlp: str | None = None
    log_level: str | None = None
    log_file: str | None = None
    ignored: tuple[str, ...] = ()


def api_token(text: str, source: str) -> str:
    """A usable API token from `text`: as an access key id it must survive SigV4's
    Credential field (no '/', ',' or spaces), and a short one is guessable."""
    token = text.strip()
    if not API_TOKEN.fullmatch(token):
        raise ConfigError(
            f"{source}: the API token must be 16 to 128 letters, digits, '-' or '_' "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return token


def load_config_file(path: Path) -> FileConfig:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must be a mapping of keys (see the daemon's cfg.yaml)"
        )
    keys = _flatten(data)
    unknown = sorted(set(keys) - USED_KEYS - AWS_ONLY_KEYS)
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown keys {', '.join(unknown)}; known keys are "
            f"{', '.join(sorted(USED_KEYS | AWS_ONLY_KEYS))}"
        )
    if keys.get("Version") not in CONFIG_VERSIONS:
        raise ConfigError(
            f"config file {path}: Version must be 1 or 2, as the daemon requires "
            f"(found {keys.get('Version')!r})"
        )
    strings = {}
    for key in USED_KEYS - {"Version"}:
        value = keys.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"config file {path}: {key} must be a string, not {value!r}")
        strings[key] = value or None
    level = strings["Logging.LogLevel"]
    if level is not None and level not in LOG_LEVELS:
        raise ConfigError(
            f"config file {path}: Logging.LogLevel must be one of {', '.join(LOG_LEVELS)}"
        )
    return FileConfig(
        udp=strings["Socket.UDPAddress"],
        tcp=strings["Socket.TCPAddress"],
        otlp=strings["Socket.OTLPAddress"],
        log_level=level,
        log_file=strings["Logging.LogPath"],
        # Only those set to something: the daemon's sample config lists every key, mostly empty.
        ignored=tuple(sorted(key for key in set(keys) & AWS_ONLY_KEYS if keys[key])),
    )


def _flatten(data: dict[Any, Any]) -> dict[str, Any]:
    """{"Socket": {"UDPAddress": x}} -> {"Socket.UDPAddress": x}, as the daemon names keys."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                flat[f"{key}.{inner}"] = item
        else:
            flat[str(key)] = value
    return flat
