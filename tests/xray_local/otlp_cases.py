"""Spans made with the OpenTelemetry SDK and what each must become in X-Ray, rule by rule.

Each case builds a few spans for one service (its resource); each rule names the span, a
path into the stored document, the value X-Ray's documents must have there, and the
awsxrayexporter rule it follows (opentelemetry-collector-contrib,
exporter/awsxrayexporter/internal/translator/). `ABSENT` means the field is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

USERMGMT = "User-Management-Microservice"
ABSENT = object()
Path = tuple[str | int, ...]
Spans = dict[str, Span]


@dataclass(frozen=True)
class Ref:
    """A value known once the spans exist: `span_id`, `trace_id` or `start` of a span."""

    what: str
    span: str = "server"


@dataclass(frozen=True)
class Rule:
    id: str
    source: str  # the exporter's rule, file and function
    span: str
    path: Path
    expected: Any


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Tracer], Spans]
    rules: list[Rule]
    resource: dict[str, Any] = field(default_factory=lambda: {"service.name": USERMGMT})


def _server(tracer: Tracer, **attributes: Any) -> Span:
    return tracer.start_span("GET /usermgmt/users", kind=SpanKind.SERVER, attributes=attributes)


def _fail() -> None:
    raise ValueError("boom")


# --- builders -------------------------------------------------------------------------


def server_and_calls(tracer: Tracer) -> Spans:
    """A request to user management: an SQL statement and an HTTP call to notification."""
    server = _server(
        tracer,
        **{
            "http.method": "GET",
            "http.url": "http://usermgmt:8095/usermgmt/notification-xray",
            "http.status_code": 200,
            "http.user_agent": "curl/8.5.0",
        },
    )
    parent = _context(server)
    sql = tracer.start_span(
        "SELECT usermgmt",
        kind=SpanKind.CLIENT,
        context=parent,
        attributes={
            "db.system": "mysql",
            "db.name": "usermgmt",
            "db.user": "usermgmt",
            "db.statement": "SELECT users.id FROM users WHERE users.username = %(username)s",
            "db.connection_string": "mysql://mysql:3306",
            "net.peer.name": "mysql",
        },
    )
    sql.end()
    call = tracer.start_span(
        "GET",
        kind=SpanKind.CLIENT,
        context=parent,
        attributes={
            "http.method": "GET",
            "http.url": "http://notification:8096/notification/xray",
            "http.status_code": 200,
            "peer.service": "notification",
        },
    )
    call.end()
    mail = tracer.start_span(
        "SMTP send", kind=SpanKind.CLIENT, context=parent, attributes={"net.peer.name": "mail"}
    )
    mail.end()
    server.end()
    return {"server": server, "sql": sql, "call": call, "mail": mail}


def stable_http(tracer: Tracer) -> Spans:
    """A server span in the current HTTP semantic conventions."""
    server = _server(
        tracer,
        **{
            "http.request.method": "POST",
            "url.scheme": "http",
            "url.path": "/usermgmt/user",
            "url.query": "notify=true",
            "server.address": "usermgmt",
            "server.port": 8095,
            "http.response.status_code": 201,
            "user_agent.original": "python-httpx/0.28.1",
            "client.address": "10.1.2.3",
        },
    )
    server.end()
    return {"server": server}


def with_status(code: int) -> Callable[[Tracer], Spans]:
    def build(tracer: Tracer) -> Spans:
        server = _server(tracer, **{"http.method": "GET", "http.status_code": code})
        if code >= 500:
            server.set_status(Status(StatusCode.ERROR))
        server.end()
        return {"server": server}

    return build


def error_without_http(tracer: Tracer) -> Spans:
    server = tracer.start_span("nightly report", kind=SpanKind.SERVER)
    server.set_status(Status(StatusCode.ERROR, "database unavailable"))
    server.end()
    return {"server": server}


def exceptions(tracer: Tracer) -> Spans:
    server = _server(tracer, **{"http.method": "GET", "http.status_code": 500})
    try:
        _fail()
    except ValueError as exc:
        server.record_exception(exc)
    server.set_status(Status(StatusCode.ERROR))
    call = tracer.start_span(
        "GET", kind=SpanKind.CLIENT, context=_context(server), attributes={"peer.service": "x"}
    )
    call.record_exception(ConnectionError("refused"))
    call.end()
    server.end()
    return {"server": server, "call": call}


def indexed_annotations(tracer: Tracer) -> Spans:
    server = _server(
        tracer,
        **{
            "app_version": "V1",
            "order-id": 42,
            "aws.xray.annotations": ["app_version", "order-id"],
            "http.route": "/usermgmt/users/{username}",
            "feature.flags": ["a", "b"],
            "enduser.id": "ada",
            "aws.xray.metadata.custom": '{"tier": "gold"}',
        },
    )
    server.end()
    return {"server": server}


def eks(tracer: Tracer) -> Spans:
    server = _server(tracer, **{"http.method": "GET", "http.status_code": 200})
    call = tracer.start_span(
        "GET", kind=SpanKind.CLIENT, context=_context(server), attributes={"peer.service": "x"}
    )
    call.end()
    server.end()
    return {"server": server, "call": call}


def nested(tracer: Tracer) -> Spans:
    server = _server(tracer, **{"http.method": "GET", "http.status_code": 200})
    middle = tracer.start_span("render page", context=_context(server))
    inner = tracer.start_span("load <user>", context=_context(middle))
    inner.end()
    middle.end()
    server.end()
    job = tracer.start_span("nightly cleanup")  # no parent: a local root
    job.end()
    return {"server": server, "middle": middle, "inner": inner, "job": job}


def _context(span: Span) -> Any:
    from opentelemetry import trace

    return trace.set_span_in_context(span)


# --- the rules ----------------------------------------------------------------------------

SEGMENT = "segment.go MakeSegment"
NAMING = "segment.go MakeSegment, naming"
HTTP = "http.go makeHTTP"
SQL = "sql.go makeSQL"
CAUSE = "cause.go makeCause"
ATTRIBUTES = "segment.go makeXRayAttributes"
AWS = "aws.go makeAws"

CASES = [
    Case(
        "server",
        server_and_calls,
        [
            Rule(
                "server-span-is-a-segment", f"{SEGMENT}: SERVER spans", "server", ("type",), ABSENT
            ),
            Rule(
                "segment-named-by-service.name",
                f"{NAMING}: resource service.name for SERVER",
                "server",
                ("name",),
                USERMGMT,
            ),
            Rule("segment-id-is-the-span-id", f"{SEGMENT}: ID", "server", ("id",), Ref("span_id")),
            Rule(
                "trace-id-in-x-ray-form",
                "segment.go convertToAmazonTraceID",
                "server",
                ("trace_id",),
                Ref("trace_id"),
            ),
            Rule(
                "start-time-in-seconds",
                "segment.go timestampToFloatSeconds",
                "server",
                ("start_time",),
                Ref("start"),
            ),
            Rule(
                "http-method",
                f"{HTTP}: http.method",
                "server",
                ("http", "request", "method"),
                "GET",
            ),
            Rule(
                "http-url",
                f"{HTTP}: http.url",
                "server",
                ("http", "request", "url"),
                "http://usermgmt:8095/usermgmt/notification-xray",
            ),
            Rule(
                "http-user-agent",
                f"{HTTP}: http.user_agent",
                "server",
                ("http", "request", "user_agent"),
                "curl/8.5.0",
            ),
            Rule(
                "http-status",
                f"{HTTP}: http.status_code",
                "server",
                ("http", "response", "status"),
                200,
            ),
            Rule("ok-is-no-fault", f"{CAUSE}: 2xx", "server", ("fault",), False),
            Rule(
                "segment-carries-the-resource",
                f"{ATTRIBUTES}: otel.resource.* for segments",
                "server",
                ("metadata", "default", "otel.resource.service.name"),
                USERMGMT,
            ),
            Rule(
                "client-span-is-a-subsegment",
                f"{SEGMENT}: non-SERVER spans with a parent",
                "call",
                ("type",),
                "subsegment",
            ),
            Rule(
                "client-span-parent-is-the-caller",
                f"{SEGMENT}: ParentID",
                "call",
                ("parent_id",),
                Ref("span_id", "server"),
            ),
            Rule(
                "client-span-is-remote",
                f"{NAMING}: namespace remote for CLIENT",
                "call",
                ("namespace",),
                "remote",
            ),
            Rule(
                "client-named-by-peer.service",
                f"{NAMING}: peer.service",
                "call",
                ("name",),
                "notification",
            ),
            Rule(
                "client-named-by-net.peer.name",
                f"{NAMING}: net.peer.name",
                "mail",
                ("name",),
                "mail",
            ),
            Rule(
                "subsegment-without-resource",
                f"{ATTRIBUTES}: resource only for segments",
                "call",
                ("metadata", "default", "otel.resource.service.name"),
                ABSENT,
            ),
            Rule(
                "db-named-name-at-host",
                f"{NAMING}: <db.name>@<host of db.connection_string>",
                "sql",
                ("name",),
                "usermgmt@mysql",
            ),
            Rule(
                "db-is-remote",
                f"{NAMING}: namespace remote for CLIENT",
                "sql",
                ("namespace",),
                "remote",
            ),
            Rule("db-type", f"{SQL}: db.system", "sql", ("sql", "database_type"), "mysql"),
            Rule(
                "db-query",
                f"{SQL}: db.statement",
                "sql",
                ("sql", "sanitized_query"),
                "SELECT users.id FROM users WHERE users.username = %(username)s",
            ),
            Rule(
                "db-url-is-the-span-name", f"{SQL}: url", "sql", ("sql", "url"), "SELECT usermgmt"
            ),
            Rule(
                "db-connection-string",
                f"{SQL}: connection_string/db.name",
                "sql",
                ("sql", "connection_string"),
                "mysql://mysql:3306/usermgmt",
            ),
            Rule("db-user", f"{SQL}: db.user", "sql", ("sql", "user"), "usermgmt"),
            Rule(
                "db-attributes-not-metadata",
                f"{SQL}: filtered",
                "sql",
                ("metadata", "default", "db.statement"),
                ABSENT,
            ),
        ],
    ),
    Case(
        "stable-http",
        stable_http,
        [
            Rule(
                "http-request-method",
                f"{HTTP}: http.request.method",
                "server",
                ("http", "request", "method"),
                "POST",
            ),
            Rule(
                "url-from-its-parts",
                f"{HTTP}: constructServerURL",
                "server",
                ("http", "request", "url"),
                "http://usermgmt:8095/usermgmt/user?notify=true",
            ),
            Rule(
                "http-response-status-code",
                f"{HTTP}: http.response.status_code",
                "server",
                ("http", "response", "status"),
                201,
            ),
            Rule(
                "user-agent-original",
                f"{HTTP}: user_agent.original",
                "server",
                ("http", "request", "user_agent"),
                "python-httpx/0.28.1",
            ),
            Rule(
                "client-address",
                f"{HTTP}: client.address",
                "server",
                ("http", "request", "client_ip"),
                "10.1.2.3",
            ),
            Rule(
                "client-address-is-forwarded",
                f"{HTTP}: x_forwarded_for without a peer address",
                "server",
                ("http", "request", "x_forwarded_for"),
                True,
            ),
        ],
    ),
    Case(
        "error-4xx",
        with_status(404),
        [
            Rule("4xx-is-an-error", f"{CAUSE}: 400-499", "server", ("error",), True),
            Rule("4xx-is-no-fault", f"{CAUSE}: 400-499", "server", ("fault",), False),
            Rule("404-is-no-throttle", f"{CAUSE}: only 429", "server", ("throttle",), False),
        ],
    ),
    Case(
        "throttle-429",
        with_status(429),
        [
            Rule("429-is-an-error", f"{CAUSE}: 400-499", "server", ("error",), True),
            Rule("429-is-a-throttle", f"{CAUSE}: 429", "server", ("throttle",), True),
        ],
    ),
    Case(
        "fault-5xx",
        with_status(503),
        [
            Rule("5xx-is-a-fault", f"{CAUSE}: 500-599", "server", ("fault",), True),
            Rule("5xx-is-no-error", f"{CAUSE}: 500-599", "server", ("error",), False),
        ],
    ),
    Case(
        "status-error",
        error_without_http,
        [
            Rule(
                "error-status-without-http-is-a-fault",
                f"{CAUSE}: StatusCodeError",
                "server",
                ("fault",),
                True,
            ),
            Rule(
                "status-message-is-the-cause",
                f"{CAUSE}: OpenCensus behaviour",
                "server",
                ("cause", "exceptions", 0, "message"),
                "database unavailable",
            ),
        ],
    ),
    Case(
        "exception",
        exceptions,
        [
            Rule(
                "exception-type",
                f"{CAUSE}: exception.type",
                "server",
                ("cause", "exceptions", 0, "type"),
                "ValueError",
            ),
            Rule(
                "exception-message",
                f"{CAUSE}: exception.message",
                "server",
                ("cause", "exceptions", 0, "message"),
                "boom",
            ),
            Rule(
                "python-stack-innermost-frame",
                "cause.go fillPythonStacktrace",
                "server",
                ("cause", "exceptions", 0, "stack", 0, "label"),
                "_fail",
            ),
            Rule(
                "python-stack-path",
                "cause.go fillPythonStacktrace",
                "server",
                ("cause", "exceptions", 0, "stack", 0, "path"),
                Ref("file"),
            ),
            Rule(
                "server-exception-is-local",
                f"{CAUSE}: remote for CLIENT/PRODUCER",
                "server",
                ("cause", "exceptions", 0, "remote"),
                False,
            ),
            Rule(
                "client-exception-is-remote",
                f"{CAUSE}: remote for CLIENT/PRODUCER",
                "call",
                ("cause", "exceptions", 0, "remote"),
                True,
            ),
        ],
    ),
    Case(
        "annotations",
        indexed_annotations,
        [
            Rule(
                "aws.xray.annotations-names-annotations",
                f"{ATTRIBUTES}: aws.xray.annotations",
                "server",
                ("annotations", "app_version"),
                "V1",
            ),
            Rule(
                "annotation-not-metadata",
                f"{ATTRIBUTES}: indexed keys",
                "server",
                ("metadata", "default", "app_version"),
                ABSENT,
            ),
            Rule(
                "annotation-keys-list-dropped",
                f"{ATTRIBUTES}: aws.xray.annotations removed",
                "server",
                ("metadata", "default", "aws.xray.annotations"),
                ABSENT,
            ),
            Rule(
                "annotation-key-fixed",
                "segment.go fixAnnotationKey",
                "server",
                ("annotations", "order_id"),
                42,
            ),
            Rule(
                "indexed-attribute-keeps-dots",
                "segment.go indexed_attributes, exporter.xray.allowDot",
                "server",
                ("annotations", "http.route"),
                "/usermgmt/users/{username}",
            ),
            Rule(
                "other-attributes-are-metadata",
                f"{ATTRIBUTES}: default namespace",
                "server",
                ("metadata", "default", "feature.flags"),
                ["a", "b"],
            ),
            Rule("enduser.id-is-the-user", f"{ATTRIBUTES}: enduser.id", "server", ("user",), "ada"),
            Rule(
                "aws.xray.metadata-namespace",
                f"{ATTRIBUTES}: aws.xray.metadata.<namespace>",
                "server",
                ("metadata", "custom", "tier"),
                "gold",
            ),
        ],
    ),
    Case(
        "eks",
        eks,
        [
            Rule(
                "eks-origin",
                "segment.go determineAwsOrigin: aws_eks",
                "server",
                ("origin",),
                "AWS::EKS::Container",
            ),
            Rule(
                "eks-cluster",
                f"{AWS}: k8s.cluster.name",
                "server",
                ("aws", "eks", "cluster_name"),
                "xray-demo",
            ),
            Rule(
                "eks-pod",
                f"{AWS}: k8s.pod.name",
                "server",
                ("aws", "eks", "pod"),
                "usermgmt-7d9c5-x2x4q",
            ),
            Rule(
                "eks-container",
                f"{AWS}: container.id",
                "server",
                ("aws", "eks", "container_id"),
                "c0ffee",
            ),
            Rule(
                "sdk-name",
                f"{AWS}: telemetry.sdk.name for telemetry.sdk.language",
                "server",
                ("aws", "xray", "sdk"),
                "opentelemetry for python",
            ),
            Rule(
                "service-version",
                "service.go makeService",
                "server",
                ("service", "version"),
                "1.2.3",
            ),
            Rule(
                "subsegment-has-the-origin-too",
                "segment.go MakeSegment: Origin",
                "call",
                ("origin",),
                "AWS::EKS::Container",
            ),
        ],
        resource={
            "service.name": USERMGMT,
            "service.version": "1.2.3",
            "cloud.provider": "aws",
            "cloud.platform": "aws_eks",
            "k8s.cluster.name": "xray-demo",
            "k8s.pod.name": "usermgmt-7d9c5-x2x4q",
            "container.id": "c0ffee",
        },
    ),
    Case(
        "nested",
        nested,
        [
            Rule(
                "internal-span-is-a-subsegment",
                f"{SEGMENT}: non-SERVER spans with a parent",
                "middle",
                ("type",),
                "subsegment",
            ),
            Rule(
                "internal-span-is-local",
                f"{NAMING}: no namespace but for CLIENT",
                "middle",
                ("namespace",),
                ABSENT,
            ),
            Rule(
                "internal-named-by-span-name",
                f"{NAMING}: span name",
                "middle",
                ("name",),
                "render page",
            ),
            Rule(
                "internal-parent-chain",
                f"{SEGMENT}: ParentID",
                "inner",
                ("parent_id",),
                Ref("span_id", "middle"),
            ),
            Rule("span-name-cleaned", "segment.go fixSegmentName", "inner", ("name",), "load user"),
            Rule(
                "nested-under-parent-in-batchgettraces",
                "BatchGetTraces nests subsegments",
                "server",
                ("subsegments", 0, "subsegments", 0, "id"),
                Ref("span_id", "inner"),
            ),
            Rule(
                "span-without-parent-is-a-segment",
                f"{SEGMENT}: local roots",
                "job",
                ("type",),
                ABSENT,
            ),
            Rule(
                "local-root-named-by-span-name",
                f"{NAMING}: service.name only for SERVER",
                "job",
                ("name",),
                "nightly cleanup",
            ),
        ],
    ),
]
