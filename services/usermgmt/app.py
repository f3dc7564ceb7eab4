"""Build the user management application from its settings.

`build_app` is the FastAPI application (routes, resources, error handlers), which tests drive
in-process; `create_app` is what uvicorn runs: that application inside the tracing middleware.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp

from servicekit import service_app
from servicekit.guards import guarded
from tracing import create_tracer, instrument_app

from .api import PREFIX, PROBE_PATHS, router
from .db import DatabaseTimeout
from .errors import install_errors
from .resources import Resources
from .settings import DEFAULT_TRACING_NAME, Settings

log = logging.getLogger(__name__)

# Probes: never traced, never refused for load.
UNTRACED_PATHS = PROBE_PATHS


def create_app(settings: Settings) -> ASGIApp:
    tracer = create_tracer(settings.tracing, default_name=DEFAULT_TRACING_NAME)
    app = build_app(Resources.create(settings, tracer))
    guarded_app = guarded(app, settings, exempt_paths=UNTRACED_PATHS)
    return instrument_app(guarded_app, tracer, untraced_paths=UNTRACED_PATHS)


def build_app(resources: Resources) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tracer, database, notifier = resources.tracer, resources.database, resources.notifier
        tracer.start()
        log.info("database: %s (from %s)", database.describe(), resources.database_source)
        log.info("notification service: %s (connections: %s)", notifier.base_url, notifier.policy)
        with tracer.untraced():
            try:
                await database.run(lambda session: None)  # creates the schema
            except (sa_exc.DBAPIError, DatabaseTimeout) as exc:
                reason = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
                log.warning("database not ready at start-up, retrying on first use: %s", reason)
        yield
        await notifier.aclose()
        database.dispose()
        tracer.close()

    app = service_app(
        title="User Management Microservice",
        summary="Users in MySQL; calls the notification service. Traced with AWS X-Ray.",
        version="1.0.0",
        prefix=PREFIX,
        lifespan=lifespan,
        resources=resources,
    )
    app.include_router(router)
    install_errors(app)
    return app
