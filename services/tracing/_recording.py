"""A `Tracer` built on a `Recorder`: the shared hooks do the instrumenting, the backend records.

A backend subclasses `RecordingTracer` and implements the `Recorder` methods (open and close
the request's segment, open and close a call); the middleware, the httpx transports and the
SQLAlchemy events come with it, the same for every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

import httpx
from starlette.types import ASGIApp

from ._header import TraceHeader
from ._httpx import AsyncTracingTransport, TracingTransport
from ._middleware import TracingMiddleware
from ._seam import OutboundCall, SamplingRequest, Segment

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


class RecordingTracer(ABC):
    enabled = True

    def __init__(self, name: str) -> None:
        self.name = name

    # --- what the backend implements (the Recorder protocol) ---------------------------

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def untraced(self, trace_id: str | None = None) -> AbstractContextManager[str]: ...

    @abstractmethod
    def begin_segment(self, incoming: TraceHeader | None, request: SamplingRequest) -> Segment: ...

    @abstractmethod
    def end_segment(self, end_time: float | None = None) -> None: ...

    @abstractmethod
    def begin_call(self, name: str, *, propagated: bool = False) -> OutboundCall: ...

    @abstractmethod
    def end_call(self, call: OutboundCall, error: BaseException | None = None) -> None: ...

    # --- what comes with it (the rest of the Tracer protocol) ---------------------------

    @contextmanager
    def outbound_call(self, name: str, *, propagated: bool = False) -> Iterator[OutboundCall]:
        call = self.begin_call(name, propagated=propagated)
        if not call.recorded:
            yield call
            return
        try:
            yield call
        except Exception as exc:
            self.end_call(call, exc)
            raise
        except BaseException:  # cancelled: close the call, record nothing
            self.end_call(call)
            raise
        else:
            self.end_call(call)

    def instrument_app(self, app: ASGIApp, *, untraced_paths: Iterable[str] = ()) -> ASGIApp:
        return TracingMiddleware(app, recorder=self, untraced_paths=untraced_paths)

    def instrument_engine(self, engine: Engine) -> None:
        # Imported here: SQLAlchemy is installed with the services that have a database only.
        from ._sql import record_statements

        record_statements(self, engine)

    def traced_transport(self, transport: httpx.BaseTransport) -> httpx.BaseTransport:
        return TracingTransport(self, transport)

    def traced_async_transport(
        self, transport: httpx.AsyncBaseTransport
    ) -> httpx.AsyncBaseTransport:
        return AsyncTracingTransport(self, transport)
