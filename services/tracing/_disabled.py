"""The tracer when tracing is off (AWS_XRAY_SDK_ENABLED=false, or OTEL_SDK_DISABLED=true with
TRACING_SDK=otel): the same calls, no tracing.

The app, the engine and the transports are handed back untouched and no SDK is imported, so a
service with tracing off runs exactly the code it would run uninstrumented.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
from starlette.types import ASGIApp

from ._header import new_trace_id
from ._seam import NOT_RECORDED, OutboundCall

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


class DisabledTracer:
    enabled = False

    def __init__(self, name: str) -> None:
        self.name = name

    def start(self) -> None:
        log.info("tracing is off (AWS_XRAY_SDK_ENABLED=false or OTEL_SDK_DISABLED=true)")

    def close(self) -> None:
        pass

    @contextmanager
    def untraced(self, trace_id: str | None = None) -> Iterator[str]:
        yield trace_id or new_trace_id()

    @contextmanager
    def outbound_call(self, name: str, *, propagated: bool = False) -> Iterator[OutboundCall]:
        yield NOT_RECORDED

    def instrument_app(self, app: ASGIApp, *, untraced_paths: Iterable[str] = ()) -> ASGIApp:
        return app

    def instrument_engine(self, engine: Engine) -> None:
        pass

    def traced_transport(self, transport: httpx.BaseTransport) -> httpx.BaseTransport:
        return transport

    def traced_async_transport(
        self, transport: httpx.AsyncBaseTransport
    ) -> httpx.AsyncBaseTransport:
        return transport
