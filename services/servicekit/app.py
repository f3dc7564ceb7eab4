"""The FastAPI application each service starts from: its documents under its own prefix,
its resources attached, every error answered with servicekit's body."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from .errors import install_error_handlers
from .openapi import document_trace_header
from .state import attach_resources

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def service_app(
    *,
    title: str,
    summary: str,
    version: str,
    prefix: str,
    lifespan: Lifespan,
    resources: object,
) -> FastAPI:
    """An app serving its OpenAPI document and docs under `prefix` (like every route, as the
    original services' context path), with `resources` for `resources_dependency`."""
    app = FastAPI(
        title=title,
        summary=summary,
        version=version,
        lifespan=lifespan,
        docs_url=f"{prefix}/docs",
        redoc_url=None,
        openapi_url=f"{prefix}/openapi.json",
    )
    attach_resources(app, resources)
    install_error_handlers(app)
    document_trace_header(app)
    return app
