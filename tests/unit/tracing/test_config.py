"""Tracing settings: the SDK's environment variables, validated before the SDK sees them."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from tracing import ContextMissing, DaemonAddress, Endpoint, TracingSettings


@pytest.mark.parametrize(
    ("value", "udp", "tcp"),
    [
        ("127.0.0.1:2000", Endpoint("127.0.0.1", 2000), Endpoint("127.0.0.1", 2000)),
        (
            "xray-service.default:2000",
            Endpoint("xray-service.default", 2000),
            Endpoint("xray-service.default", 2000),
        ),
        (
            "tcp:10.0.0.1:2000 udp:10.0.0.2:2001",
            Endpoint("10.0.0.2", 2001),
            Endpoint("10.0.0.1", 2000),
        ),
        ("udp:daemon:2001 tcp:daemon:2000", Endpoint("daemon", 2001), Endpoint("daemon", 2000)),
    ],
)
def test_both_sdk_forms_parse(value: str, udp: Endpoint, tcp: Endpoint) -> None:
    address = DaemonAddress.parse(value)
    assert (address.udp, address.tcp) == (udp, tcp)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "nonsense",
        "127.0.0.1",
        ":2000",
        "host:",
        "host:port",
        "host:0",
        "host:65536",
        "host:2000:1",
        " 127.0.0.1:2000",
        "127.0.0.1:2000 ",
        "tcp:a:1  udp:b:2",
        "tcp:a:1 tcp:b:2",
        "tcp:a:1",
        "http://daemon:2000",
        "[::1]:2000",
        "bad_host:2000",
    ],
)
def test_invalid_addresses_name_the_accepted_forms(value: str) -> None:
    with pytest.raises(ValueError, match="'host:port' or 'tcp:host:port udp:host:port'"):
        DaemonAddress.parse(value)


@pytest.mark.parametrize(
    "value",
    ["127.0.0.1:2000", "xray-service.default:2000", "tcp:10.0.0.1:2000 udp:10.0.0.2:2001"],
)
def test_every_accepted_address_is_accepted_by_the_sdk(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK parses the variable again when it is imported; it must agree with us."""
    from aws_xray_sdk.core.daemon_config import DaemonConfig

    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    sdk = DaemonConfig(value)
    ours = DaemonAddress.parse(value)
    assert (sdk.udp_ip, sdk.udp_port, sdk.tcp_ip, sdk.tcp_port) == (
        ours.udp.host,
        ours.udp.port,
        ours.tcp.host,
        ours.tcp.port,
    )


def test_settings_read_the_sdk_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_XRAY_TRACING_NAME", "Custom-Name")
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "xray-service.default:2000")
    monkeypatch.setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")
    settings = TracingSettings()
    assert settings.name == "Custom-Name"
    assert settings.daemon_address.udp == Endpoint("xray-service.default", 2000)
    assert settings.context_missing is ContextMissing.IGNORE_ERROR
    assert settings.enabled is False


def test_defaults_match_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_XRAY_") or name.startswith("XRAY_"):
            monkeypatch.delenv(name)
    settings = TracingSettings()
    assert str(settings.daemon_address) == "127.0.0.1:2000"
    assert settings.context_missing is ContextMissing.LOG_ERROR
    assert settings.enabled is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AWS_XRAY_DAEMON_ADDRESS", "nonsense"),
        ("AWS_XRAY_CONTEXT_MISSING", "CRASH"),
        ("AWS_XRAY_SDK_ENABLED", "maybe"),
        ("XRAY_SAMPLING_RULES", "/does/not/exist.json"),
    ],
)
def test_invalid_values_fail_naming_the_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        TracingSettings()
    assert caught.value.errors()[0]["loc"] == (variable,)


def test_sampling_rules_must_be_an_sdk_rules_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text('{"rules": []}')
    monkeypatch.setenv("XRAY_SAMPLING_RULES", str(rules))
    with pytest.raises(ValidationError, match="not an X-Ray local sampling rules file"):
        TracingSettings()
