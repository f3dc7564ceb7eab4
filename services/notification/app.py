"""Build the notification application from its settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from servicekit import document_trace_header, install_error_handlers
from tracing import create_tracer, instrument_app

from .api import HEALTH_PATH, PREFIX, HostIdentity, router
from .faults import FaultInjector, admin
from .mailer import Mailer
from .settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> ASGIApp:
    tracer = create_tracer(
        settings.tracing,
        default_name=settings.default_tracing_name,
        # Lets X-Ray filter traces by version: annotation.app_version = "V2"
        annotations={"app_version": settings.app_version},
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tracer.start()
        app.state.host = await run_in_threadpool(HostIdentity)
        log.info(
            "notification %s on %s; mail via %s:%s",
            settings.app_version,
            app.state.host.name,
            settings.mail_server_host,
            settings.mail_server_port,
        )
        yield
        tracer.close()

    app = FastAPI(
        title="Notification Microservice",
        summary=f"Version {settings.app_version}: sends emails. Traced with AWS X-Ray.",
        version=settings.app_version,
        lifespan=lifespan,
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{PREFIX}/openapi.json",
    )
    app.state.settings = settings
    app.state.mailer = Mailer(settings, tracer)
    app.include_router(router)
    untraced = {HEALTH_PATH}
    if settings.fault_injection_enabled:
        faults = settings.initial_faults()
        app.state.faults = FaultInjector(faults)
        app.include_router(admin, prefix=PREFIX)
        # Setting faults is not traffic: it stays off the service map.
        untraced.add(f"{PREFIX}{admin.prefix}")
        log.warning("fault injection enabled, starting with %s", faults.model_dump(by_alias=True))
    install_error_handlers(app)
    document_trace_header(app)
    return instrument_app(app, tracer, untraced_paths=untraced)
