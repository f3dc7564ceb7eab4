"""Build the user management application from its settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from servicekit import document_trace_header, install_error_handlers
from tracing import create_tracer, instrument_app, instrument_engine, traced_async_transport

from .api import HEALTH_PATH, PREFIX, router
from .db import Database
from .errors import install_dependency_errors
from .notification_client import NotificationClient
from .settings import DEFAULT_TRACING_NAME, Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> ASGIApp:
    tracer = create_tracer(settings.tracing, default_name=DEFAULT_TRACING_NAME)
    url, chosen_by = settings.database()
    database = Database(url)
    instrument_engine(database.engine, tracer)
    notifier = NotificationClient(
        settings.notification_base_url,
        timeout=settings.notification_timeout_seconds,
        transport=traced_async_transport(tracer),
        policy=settings.notification_connection_policy,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tracer.start()
        log.info("database: %s (from %s)", database.describe(), chosen_by)
        log.info("notification service: %s (connections: %s)", notifier.base_url, notifier.policy)
        with tracer.untraced():
            try:
                await run_in_threadpool(database.ensure_schema)
            except sa_exc.DBAPIError as exc:
                log.warning("database not ready at start-up, retrying on first use: %s", exc.orig)
        yield
        await notifier.aclose()
        database.dispose()
        tracer.close()

    app = FastAPI(
        title="User Management Microservice",
        summary="Users in MySQL; calls the notification service. Traced with AWS X-Ray.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{PREFIX}/openapi.json",
    )
    app.state.settings = settings
    app.state.database = database
    app.state.notifier = notifier
    app.include_router(router)
    install_error_handlers(app)
    document_trace_header(app)
    install_dependency_errors(app)
    return instrument_app(app, tracer, untraced_paths={HEALTH_PATH})
