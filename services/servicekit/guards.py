"""The limits every service puts in front of its application, from its settings."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp

from .admission import ConcurrencyLimit
from .settings import ServiceSettings


def guarded(app: ASGIApp, settings: ServiceSettings, *, exempt_paths: Iterable[str]) -> ASGIApp:
    """`app` behind the concurrency limit (health checks exempt).

    Tracing goes outside: a request refused here is still a traced 503.
    """
    return ConcurrencyLimit(app, limit=settings.max_concurrent_requests, exempt_paths=exempt_paths)
