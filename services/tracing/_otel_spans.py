"""`Segment` and `Call` over an OpenTelemetry span, in the attributes the X-Ray exporter reads.

What the hooks record in X-Ray's vocabulary becomes the attributes the OpenTelemetry
Collector's awsxrayexporter (and X-Ray's own OTLP endpoint) turns back into the same fields:

- annotations: the attribute itself, its key listed in `aws.xray.annotations`;
- metadata: one JSON object per namespace in `aws.xray.metadata.<namespace>`;
- http: the current semantic conventions (`http.request.method`, `url.full`,
  `http.response.status_code`, `user_agent.original`, `client.address` or
  `network.peer.address`), written when the span ends, once all of it is known;
- sql: `db.system`, `db.name`, `db.user`, `db.statement` and `db.query.text` (the statement
  with its placeholders, as the hooks give it), `server.address`/`server.port` and a
  `db.connection_string` of scheme, host and port only;
- an exception: an `exception` event and the ERROR status (X-Ray's fault).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.trace import Span, Status, StatusCode

from ._seam import DEFAULT_NAMESPACE, AnnotationValue, HttpValue

ANNOTATION_KEYS = "aws.xray.annotations"
METADATA_PREFIX = "aws.xray.metadata."
# X-Ray's http fields -> attributes; client_ip and x_forwarded_for are handled together.
HTTP_ATTRIBUTES = {
    "method": "http.request.method",
    "url": "url.full",
    "status": "http.response.status_code",
    "content_length": "http.response.body.size",
    "user_agent": "user_agent.original",
}
# The segment document's database types -> OpenTelemetry's db.system values.
DB_SYSTEMS = {
    "MySQL": "mysql",
    "MariaDB": "mariadb",
    "SQLite": "sqlite",
    "PostgreSQL": "postgresql",
}


def xray_trace_id(trace_id: int) -> str:
    """An OpenTelemetry trace id (the X-Ray id generator's) in X-Ray's form."""
    text = format(trace_id, "032x")
    return f"1-{text[:8]}-{text[8:]}"


class SpanEntity:
    """One span as the hooks see it: a request's segment or one of its calls."""

    __slots__ = ("_annotations", "_http", "_metadata", "name", "span", "trace_id")

    def __init__(
        self,
        span: Span,
        name: str,
        *,
        trace_id: str | None = None,
        annotated: Iterable[str] = (),
    ) -> None:
        """`trace_id` is the X-Ray form of the span's, when the caller has it already;
        `annotated` the annotations the span started with (`annotation_attributes`)."""
        self.span = span
        self.name = name
        self.trace_id = trace_id or xray_trace_id(span.get_span_context().trace_id)
        self._annotations: list[str] = list(annotated)
        self._metadata: dict[str, dict[str, object]] = {}
        self._http: dict[str, HttpValue] = {}

    @property
    def sampled(self) -> bool:
        return self.span.get_span_context().trace_flags.sampled

    @property
    def span_id(self) -> str:
        return format(self.span.get_span_context().span_id, "016x")

    def put_annotation(self, key: str, value: AnnotationValue) -> None:
        self.span.set_attribute(key, value)
        if key not in self._annotations:
            self._annotations.append(key)
            self.span.set_attribute(ANNOTATION_KEYS, list(self._annotations))

    def put_metadata(self, key: str, value: object, namespace: str = DEFAULT_NAMESPACE) -> None:
        entries = self._metadata.setdefault(namespace, {})
        entries[key] = value
        self.span.set_attribute(METADATA_PREFIX + namespace, json.dumps(entries, default=str))

    def put_http_meta(self, key: str, value: HttpValue) -> None:
        self._http[key] = value

    def set_sql(self, sql: Mapping[str, str]) -> None:
        self.span.set_attributes(sql_attributes(self.name, sql))

    def add_exception(self, error: BaseException) -> None:
        self.span.record_exception(error)
        self.span.set_status(Status(StatusCode.ERROR, type(error).__name__))

    def end(self, end_time: float | None = None) -> None:
        if self._http:
            self.span.set_attributes(http_attributes(self._http))
        self.span.end(None if end_time is None else round(end_time * 1e9))


def annotation_attributes(annotations: Mapping[str, AnnotationValue]) -> dict[str, Any]:
    """The attributes `put_annotation` of each of `annotations` in turn leaves on a span."""
    found: dict[str, Any] = {}
    keys: list[str] = []
    for key, value in annotations.items():
        found[key] = value
        keys.append(key)
        found[ANNOTATION_KEYS] = list(keys)
    return found


def http_attributes(http: Mapping[str, HttpValue]) -> dict[str, Any]:
    found: dict[str, Any] = {
        HTTP_ATTRIBUTES[key]: value for key, value in http.items() if key in HTTP_ATTRIBUTES
    }
    client_ip = http.get("client_ip")
    if client_ip is not None:
        # The exporter says x_forwarded_for unless the address is the connection's peer.
        forwarded = http.get("x_forwarded_for") is True
        found["client.address" if forwarded else "network.peer.address"] = client_ip
    return found


def sql_attributes(call_name: str, sql: Mapping[str, str]) -> dict[str, Any]:
    """The call is named <database>@<host> by the hooks, as the exporter names it back from
    `db.name` and the host of `db.connection_string`."""
    database, _, host = call_name.rpartition("@")
    url = urlsplit(sql.get("url", ""))
    scheme = url.scheme.partition("+")[0] or "db"
    found: dict[str, Any] = {
        "db.system": DB_SYSTEMS.get(sql.get("database_type", ""), "other_sql"),
        "db.name": database,
        "db.connection_string": f"{scheme}://{host}" + (f":{url.port}" if url.port else ""),
        "server.address": host,
    }
    if url.port:
        found["server.port"] = url.port
    statement = sql.get("sanitized_query")
    if statement is not None:
        found["db.statement"] = found["db.query.text"] = statement
    for key, attribute in (
        ("user", "db.user"),
        ("database_version", "db.version"),
        ("driver_version", "db.driver.version"),
    ):
        if key in sql:
            found[attribute] = sql[key]
    return found


class Placeholder:
    """What is current while a service does its own, untraced work: a trace id, no span."""

    __slots__ = ("trace_id",)
    sampled = False

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
