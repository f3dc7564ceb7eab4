"""The seam between the services and whatever records their traces. No SDK is imported here.

Two views of one backend:

- `Tracer` is what a service holds: built once from `TracingSettings` by `create_tracer`, it
  instruments the app, the database engine and the HTTP clients, and records the calls a
  service makes by hand (the mailer's SMTP conversation) as an `OutboundCall`.
- `Recorder` is what the shared hooks (`_middleware`, `_httpx`, `_sql`) drive: open the
  request's `Segment`, open and close a `Call` around each outbound call. A backend that
  implements it gets every hook for free by subclassing `RecordingTracer` (`_recording`);
  one that brings its own instrumentation implements `Tracer` directly.

`Segment` and `Call` name what may be recorded on a request and on a call to another service,
in X-Ray's vocabulary (annotations are indexed and filterable, metadata is not; `http` and
`sql` fields by the segment document's names). Another backend maps them onto its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import httpx
from starlette.types import ASGIApp

from ._header import TraceHeader

if TYPE_CHECKING:  # SQLAlchemy is installed with the services that have a database only
    from sqlalchemy.engine import Engine

AnnotationValue = str | int | float | bool
Annotations = Mapping[str, AnnotationValue]
# The request/response fields of a segment document's `http` section: method, url, status,
# content_length, client_ip, user_agent, x_forwarded_for.
HttpValue = str | int | bool
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class SamplingRequest:
    """What sampling rules match a request on (X-Ray rules: host, HTTP method, URL path)."""

    host: str
    method: str
    path: str


class Call(Protocol):
    """What may be recorded on one piece of a trace: a request's segment or a call it makes."""

    @property
    def trace_id(self) -> str: ...

    def put_annotation(self, key: str, value: AnnotationValue) -> None:
        """Indexed: traces can be filtered on it (`annotation.app_version = "V2"`)."""

    def put_metadata(self, key: str, value: object, namespace: str = DEFAULT_NAMESPACE) -> None:
        """Kept with the trace, not indexed; any JSON-serialisable value."""

    def put_http_meta(self, key: str, value: HttpValue) -> None: ...

    def set_sql(self, sql: Mapping[str, str]) -> None:
        """The statement as sent (placeholders, never values) and where it went."""

    def add_exception(self, error: BaseException) -> None:
        """Record `error` (type, message, where it was raised) and mark this piece failed."""


class Segment(Call, Protocol):
    """The piece of a trace one incoming request makes."""

    @property
    def sampled(self) -> bool: ...


class OutboundCall:
    """A call about to be made to another service.

    `trace_header` is the X-Amzn-Trace-Id value to send (None when there is no trace), and
    the methods record on the call when it is recorded and do nothing when it is not, so
    calling code needs no check of its own.
    """

    __slots__ = ("call", "trace_header")

    def __init__(self, call: Call | None = None, trace_header: str | None = None) -> None:
        self.call = call
        self.trace_header = trace_header

    @property
    def recorded(self) -> bool:
        return self.call is not None

    def put_annotation(self, key: str, value: AnnotationValue) -> None:
        if self.call is not None:
            self.call.put_annotation(key, value)

    def put_metadata(self, key: str, value: object, namespace: str = DEFAULT_NAMESPACE) -> None:
        if self.call is not None:
            self.call.put_metadata(key, value, namespace)

    def put_http_meta(self, key: str, value: HttpValue) -> None:
        if self.call is not None:
            self.call.put_http_meta(key, value)

    def set_sql(self, sql: Mapping[str, str]) -> None:
        if self.call is not None:
            self.call.set_sql(sql)

    def add_exception(self, error: BaseException) -> None:
        if self.call is not None:
            self.call.add_exception(error)


NOT_RECORDED = OutboundCall()


class Tracer(Protocol):
    """What a service traces with; `create_tracer` picks the implementation at start-up."""

    @property
    def name(self) -> str:
        """The service's name on the map (AWS_XRAY_TRACING_NAME, or the service's default)."""

    @property
    def enabled(self) -> bool: ...

    def start(self) -> None:
        """Begin sending (called from the app's lifespan, once the event loop runs)."""

    def close(self) -> None: ...

    def untraced(self, trace_id: str | None = None) -> AbstractContextManager[str]:
        """Run the service's own work (start-up, health checks) without recording it;
        instrumented calls inside are not recorded. Yields the trace id log lines carry."""

    def outbound_call(
        self, name: str, *, propagated: bool = False
    ) -> AbstractContextManager[OutboundCall]:
        """Record a call to `name` made inside the block; an exception leaving the block is
        recorded on it. `propagated`: the callee gets the trace header and records its
        side of the call in the same trace."""

    def instrument_app(self, app: ASGIApp, *, untraced_paths: Iterable[str] = ()) -> ASGIApp:
        """`app` with one segment per HTTP request, except on `untraced_paths`."""

    def instrument_engine(self, engine: Engine) -> None:
        """Record every SQL statement `engine` runs."""

    def traced_transport(self, transport: httpx.BaseTransport) -> httpx.BaseTransport: ...

    def traced_async_transport(
        self, transport: httpx.AsyncBaseTransport
    ) -> httpx.AsyncBaseTransport: ...


class Recorder(Protocol):
    """What the shared hooks (middleware, httpx transports, SQL events) need of a backend."""

    @property
    def name(self) -> str: ...

    def untraced(self, trace_id: str | None = None) -> AbstractContextManager[str]: ...

    def begin_segment(self, incoming: TraceHeader | None, request: SamplingRequest) -> Segment:
        """Open the request's segment and make it current. Unsampled requests get one too:
        it carries the trace id (for logs and propagation) and records nothing."""

    def end_segment(self, end_time: float | None = None) -> None:
        """Close the current segment; `end_time` is when the client got its answer."""

    def begin_call(self, name: str, *, propagated: bool = False) -> OutboundCall:
        """Open a call to `name` below the current entity (`NOT_RECORDED`-like when it is not
        recorded) and make it current."""

    def end_call(self, call: OutboundCall, error: BaseException | None = None) -> None:
        """Close `call`, the current one, recording `error` if it failed."""

    def outbound_call(
        self, name: str, *, propagated: bool = False
    ) -> AbstractContextManager[OutboundCall]:
        """`begin_call` and `end_call` around a block (see `Tracer.outbound_call`)."""
