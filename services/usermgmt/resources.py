"""What user management's routes use, built once from the settings: one typed object."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tracing import Tracer, instrument_engine, traced_async_transport

from .db import Database
from .notification_client import NotificationClient
from .settings import Settings


@dataclass(frozen=True)
class Resources:
    settings: Settings
    tracer: Tracer
    database: Database
    # Which setting chose the database, for the start-up log.
    database_source: str
    notifier: NotificationClient

    @classmethod
    def create(
        cls,
        settings: Settings,
        tracer: Tracer,
        *,
        notification_transport: httpx.AsyncBaseTransport | None = None,
    ) -> Resources:
        """`notification_transport` (a pool with the client's limits by default) carries the
        calls to the notification service; tests hand it the notification app in-process."""
        url, source = settings.database()
        database = Database(
            url, deadline=settings.db_timeout_seconds, max_concurrency=settings.db_max_concurrency
        )
        instrument_engine(database.engine, tracer)

        def pool(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
            transport = notification_transport or httpx.AsyncHTTPTransport(limits=limits)
            return traced_async_transport(tracer, transport)

        notifier = NotificationClient(
            settings.notification_base_url,
            timeout=settings.notification_timeout_seconds,
            max_connections=settings.notification_max_connections,
            pool=pool,
            policy=settings.notification_connection_policy,
        )
        return cls(settings, tracer, database, source, notifier)
