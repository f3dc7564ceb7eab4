"""What user management's routes use, built once from the settings: one typed object."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from servicekit.outbound import one_connection
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
        """`notification_transport` (a connection of its own per call at once, by default)
        carries the calls to the notification service; tests hand it the notification app
        in-process."""
        url, source = settings.database()
        database = Database(
            url, deadline=settings.db_timeout_seconds, max_concurrency=settings.db_max_concurrency
        )
        instrument_engine(database.engine, tracer)

        def connect() -> httpx.AsyncBaseTransport:
            return traced_async_transport(tracer, notification_transport or one_connection())

        notifier = NotificationClient(
            settings.notification_base_url,
            timeout=settings.notification_timeout_seconds,
            max_connections=settings.notification_max_connections,
            connect=connect,
            policy=settings.notification_connection_policy,
        )
        return cls(settings, tracer, database, source, notifier)
