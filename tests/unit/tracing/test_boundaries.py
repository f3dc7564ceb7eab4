"""Only `tracing` touches a tracing SDK (the X-Ray SDK, OpenTelemetry's SDK and AWS's
distribution of it): the services import none and reach none through it."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import tracing
from devstack import SAMPLE_ALL_RULES

SERVICES = Path(__file__).resolve().parents[3] / "services"
PROJECT_PACKAGES = ("tracing", "servicekit", "usermgmt", "notification")
SDK = "aws_xray_sdk"
# OpenTelemetry's API and SDK, and AWS's distribution; `opentelemetry.proto` is OTLP's wire
# format (the local daemon reads it) and no SDK.
OTEL_ROOTS = ("opentelemetry", "amazon")
OTEL_WIRE_FORMAT = "opentelemetry.proto"
# What a service may import from the tracing package: its public names and its settings.
PUBLIC_MODULES = ("tracing", "tracing.config")


@contextmanager
def fresh_imports() -> Iterator[None]:
    """The project's packages and the SDK as if never imported; all put back afterwards."""
    roots = (*PROJECT_PACKAGES, SDK, *OTEL_ROOTS)
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] in roots}
    for name in saved:
        del sys.modules[name]
    try:
        yield
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] in roots]:
            del sys.modules[name]
        sys.modules.update(saved)


def is_otel_sdk(module: str) -> bool:
    return module.split(".")[0] in OTEL_ROOTS and not module.startswith(OTEL_WIRE_FORMAT)


def sdks_loaded() -> list[str]:
    return [name for name in sys.modules if name.split(".")[0] == SDK or is_otel_sdk(name)]


def test_importing_servicekit_and_the_settings_leaves_the_sdks_unloaded() -> None:
    with fresh_imports():
        for module in ("servicekit", "usermgmt.settings", "notification.settings", "tracing"):
            importlib.import_module(module)
        assert sdks_loaded() == []


def test_the_otel_backend_leaves_the_xray_sdk_unloaded() -> None:
    with fresh_imports():
        from notification.app import create_app
        from notification.settings import Settings
        from tracing import TracingSettings

        otel = TracingSettings(TRACING_SDK="otel", XRAY_SAMPLING_RULES=SAMPLE_ALL_RULES)
        create_app(Settings(tracing=otel))
        assert SDK not in sys.modules
        assert "opentelemetry.sdk.trace" in sys.modules  # the backend did load


def test_with_tracing_off_both_apps_are_built_without_the_sdk(tmp_path: Path) -> None:
    with fresh_imports():
        from notification.app import create_app as notification_app
        from notification.settings import Settings as NotificationSettings
        from tracing import TracingSettings
        from usermgmt.app import create_app as usermgmt_app
        from usermgmt.settings import Settings as UsermgmtSettings

        off = TracingSettings(AWS_XRAY_SDK_ENABLED=False)
        notification_app(NotificationSettings(tracing=off))
        usermgmt_app(UsermgmtSettings(tracing=off, SQLITE_PATH=tmp_path / "users.db"))
        assert sdks_loaded() == []


def service_modules() -> list[Path]:
    return sorted(
        path for path in SERVICES.rglob("*.py") if path.relative_to(SERVICES).parts[0] != "tracing"
    )


@pytest.mark.parametrize("path", service_modules(), ids=lambda p: str(p.relative_to(SERVICES)))
def test_no_service_module_imports_the_sdk_or_tracing_internals(path: Path) -> None:
    source = path.read_text()
    assert SDK not in source  # not even by name (a logger's, say): tracing speaks for it
    imported: list[str] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.append(node.module)
    assert not [name for name in imported if name.split(".")[0] == SDK]
    assert not [name for name in imported if is_otel_sdk(name)]
    assert not [
        name for name in imported if name.split(".")[0] == "tracing" and name not in PUBLIC_MODULES
    ]


def annotations_of(obj: object) -> dict[str, object]:
    """Resolved annotations; names only imported for type checkers are supplied here."""
    return typing.get_type_hints(obj, localns={"Engine": Engine})


def public_signatures() -> dict[str, object]:
    """Every function, class, method and property a service can reach from `tracing`'s
    names."""
    found: dict[str, object] = {}
    for name in tracing.__all__:
        value = getattr(tracing, name)
        if inspect.isfunction(value):
            found[name] = value
        elif inspect.isclass(value):
            found[name] = value  # its attributes' annotations
            for member_name, member in vars(value).items():
                if member_name.startswith("_") and member_name != "__init__":
                    continue
                if isinstance(member, property) and member.fget is not None:
                    found[f"{name}.{member_name}"] = member.fget
                elif inspect.isfunction(member):
                    found[f"{name}.{member_name}"] = member
    return found


def mentions_any(annotation: object) -> bool:
    if annotation is typing.Any:
        return True
    return any(mentions_any(argument) for argument in typing.get_args(annotation))


PUBLIC = public_signatures()


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_public_surface_is_typed_without_any(name: str) -> None:
    """No `Any` a service could reach an SDK object through: mypy strict then checks every
    use the services make of tracing against these types."""
    hints = annotations_of(PUBLIC[name])
    assert not [key for key, annotation in hints.items() if mentions_any(annotation)]
