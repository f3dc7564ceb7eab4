"""The limits every service puts in front of its application, from its settings."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp

from .admission import ConcurrencyLimit
from .bodylimit import BodyLimit
from .settings import ServiceSettings


def guarded(app: ASGIApp, settings: ServiceSettings, *, exempt_paths: Iterable[str]) -> ASGIApp:
    """`app` behind the concurrency limit (health checks exempt) and the request body limits.

    Tracing goes outside these: a request refused here is still a traced 503, 413 or 408.
    """
    bounded = BodyLimit(
        app,
        max_bytes=settings.max_request_body_bytes,
        timeout=settings.request_body_timeout_seconds,
    )
    return ConcurrencyLimit(
        bounded, limit=settings.max_concurrent_requests, exempt_paths=exempt_paths
    )
