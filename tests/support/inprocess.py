"""Both services in-process: the real applications, called through httpx.ASGITransport.

User management runs on its embedded SQLite default and calls the notification application
in-process too (its ASGI app as the notification client's transport); the notification
service mails an in-process aiosmtpd. Nothing here starts a process or needs a database
server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp

import notification.app
import notification.resources
import notification.settings
import usermgmt.app
import usermgmt.resources
import usermgmt.settings
from tracing import Tracer, TracingSettings, create_tracer, instrument_app

TRACING_OFF = TracingSettings(AWS_XRAY_SDK_ENABLED=False)
CLIENT = ("203.0.113.9", 40000)  # the address the apps see the test client at


def service_variables() -> set[str]:
    """Every environment variable a service's settings read."""
    names = set()
    for model in (usermgmt.settings.Settings, notification.settings.Settings, TracingSettings):
        for field in model.model_fields.values():
            if isinstance(field.validation_alias, str):
                names.add(field.validation_alias)
    return names


def usermgmt_settings(tmp_path: Path, **values: Any) -> usermgmt.settings.Settings:
    """SQLite in `tmp_path`, the cheapest bcrypt cost, tracing off unless `tracing=` says."""
    defaults: dict[str, Any] = {
        "tracing": TRACING_OFF,
        "SQLITE_PATH": tmp_path / "usermgmt.db",
        "BCRYPT_ROUNDS": 4,  # the policy is tested; the hashing cost is not
    }
    return usermgmt.settings.Settings(**{**defaults, **values})


def notification_settings(**values: Any) -> notification.settings.Settings:
    return notification.settings.Settings(**{"tracing": TRACING_OFF, **values})


@asynccontextmanager
async def serving(
    app: FastAPI, tracer: Tracer, untraced_paths: frozenset[str]
) -> AsyncIterator[ASGIApp]:
    """`app` started (its lifespan run) and wrapped as create_app wraps it; stopped after."""
    async with app.router.lifespan_context(app):
        yield instrument_app(app, tracer, untraced_paths=untraced_paths)


def client(app: ASGIApp, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=CLIENT), base_url=base_url
    )


@dataclass
class Notification:
    app: FastAPI
    resources: notification.resources.Resources
    asgi: ASGIApp  # what uvicorn would run: the app inside tracing
    client: httpx.AsyncClient


@asynccontextmanager
async def notification_service(
    settings: notification.settings.Settings,
) -> AsyncIterator[Notification]:
    tracer = create_tracer(
        settings.tracing,
        default_name=settings.default_tracing_name,
        annotations={"app_version": settings.app_version},
    )
    resources = notification.resources.Resources.create(settings, tracer)
    app = notification.app.build_app(resources)
    untraced = notification.app.untraced_paths(settings)
    async with serving(app, tracer, untraced) as asgi, client(asgi, "http://notification") as http:
        yield Notification(app, resources, asgi, http)


@dataclass
class Usermgmt:
    app: FastAPI
    resources: usermgmt.resources.Resources
    asgi: ASGIApp  # what uvicorn would run: the app inside tracing
    client: httpx.AsyncClient


@asynccontextmanager
async def usermgmt_service(
    settings: usermgmt.settings.Settings,
    *,
    notification_app: ASGIApp | None = None,
) -> AsyncIterator[Usermgmt]:
    """User management calling `notification_app` in-process, or else over the network at
    the address its settings give (which a test points at a socket of its own)."""
    tracer = create_tracer(settings.tracing, default_name=usermgmt.settings.DEFAULT_TRACING_NAME)
    transport = httpx.ASGITransport(app=notification_app) if notification_app else None
    resources = usermgmt.resources.Resources.create(
        settings, tracer, notification_transport=transport
    )
    app = usermgmt.app.build_app(resources)
    untraced = usermgmt.app.UNTRACED_PATHS
    async with serving(app, tracer, untraced) as asgi, client(asgi, "http://usermgmt") as http:
        yield Usermgmt(app, resources, asgi, http)
