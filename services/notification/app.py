"""Build the notification application from its settings.

`build_app` is the FastAPI application (routes, resources, error handlers), which tests drive
in-process; `create_app` is what uvicorn runs: that application inside the tracing middleware.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from servicekit import service_app
from servicekit.guards import guarded
from tracing import create_tracer, instrument_app

from .api import PREFIX, PROBE_PATHS, router
from .faults.admin import admin
from .resources import Resources
from .settings import Settings

log = logging.getLogger(__name__)

FAULTS_PATH = f"{PREFIX}{admin.prefix}"


def create_app(settings: Settings) -> ASGIApp:
    tracer = create_tracer(
        settings.tracing,
        default_name=settings.default_tracing_name,
        # Lets X-Ray filter traces by version: annotation.app_version = "V2"
        annotations={"app_version": settings.app_version},
    )
    app = build_app(Resources.create(settings, tracer))
    untraced = untraced_paths(settings)
    return instrument_app(
        guarded(app, settings, exempt_paths=untraced), tracer, untraced_paths=untraced
    )


def untraced_paths(settings: Settings) -> frozenset[str]:
    """The probes, and setting faults, which is not traffic: all stay off the map."""
    return PROBE_PATHS | {FAULTS_PATH} if settings.fault_injection_enabled else PROBE_PATHS


def build_app(resources: Resources) -> FastAPI:
    settings = resources.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources.tracer.start()
        await run_in_threadpool(resources.host.look_up)
        log.info(
            "notification %s on %s; mail via %s:%s",
            settings.app_version,
            resources.host.name,
            settings.mail_server_host,
            settings.mail_server_port,
        )
        yield
        # uvicorn has let requests finish and cancelled the rest: wait for the emails being
        # sent (bounded by their SMTP timeout) so their logs and traces go out before the
        # tracer closes.
        await resources.mailer.drain(settings.mail_timeout_seconds + 1)
        resources.tracer.close()

    app = service_app(
        title="Notification Microservice",
        summary=f"Version {settings.app_version}: sends emails. Traced with AWS X-Ray.",
        version=settings.app_version,
        prefix=PREFIX,
        lifespan=lifespan,
        resources=resources,
    )
    app.include_router(router)
    if resources.faults is not None:
        app.include_router(admin, prefix=PREFIX)
        log.warning(
            "fault injection enabled, starting with %s",
            resources.faults.faults.model_dump(by_alias=True),
        )
    return app
