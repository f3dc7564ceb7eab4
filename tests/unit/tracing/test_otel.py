"""The OpenTelemetry backend in-process: spans kept in memory, apps called through ASGI.

Each test drives the shared hooks (middleware, httpx transports, SQL events) over an
`OtelTracer`, reads the finished spans, and where it matters turns them into segment
documents with the local daemon's translation (the X-Ray exporter's rules), so that what
X-Ray would show is checked, not only the attributes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.sdk.resources import Resource as SdkResource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, get_current_span, set_span_in_context
from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

from devstack import SAMPLE_ALL_RULES
from servicekit import install_error_handlers
from tests.support.xray import new_trace_id
from tracing import (
    SamplingRequest,
    TracingSettings,
    _current,
    create_tracer,
    current_trace_id,
    instrument_app,
    instrument_engine,
    traced_async_transport,
    traced_transport,
)
from tracing._disabled import DisabledTracer
from tracing._header import HEADER_NAME, parse_trace_header
from tracing._otel import OtelTracer
from tracing._otel_spans import SpanEntity, sql_attributes, xray_trace_id
from xray_local.otlp.annotations import Rules
from xray_local.otlp.aws import Resource
from xray_local.otlp.segment import segments_of
from xray_local.otlp.values import attributes as otlp_attributes

pytestmark = pytest.mark.anyio
NAME = "Otel-Test-Service"
PARENT = "53995c3f42cd8ad8"
HEALTH = "/health"


def otel_settings(**values: Any) -> TracingSettings:
    return TracingSettings(
        **{
            "TRACING_SDK": "otel",
            "AWS_XRAY_SDK_ENABLED": True,
            "XRAY_SAMPLING_RULES": str(SAMPLE_ALL_RULES),
            **values,
        }
    )


class Recorded:
    """An `OtelTracer` whose spans are kept in memory, as they end."""

    def __init__(self, settings: TracingSettings | None = None, **environ: str) -> None:
        self.memory = InMemorySpanExporter()
        self.tracer = OtelTracer(
            settings or otel_settings(),
            name=NAME,
            annotations={"app_version": "V2"},
            environ=environ,
            processor=SimpleSpanProcessor(self.memory),
        )

    @property
    def spans(self) -> Sequence[ReadableSpan]:
        return self.memory.get_finished_spans()

    def only(self, kind: SpanKind) -> ReadableSpan:
        [span] = [span for span in self.spans if span.kind == kind]
        return span

    def documents(self) -> list[dict[str, Any]]:
        """The segment documents the X-Ray exporter makes of the spans."""
        rules = Rules()
        found: list[dict[str, Any]] = []
        for resource_spans in encode_spans(self.spans).resource_spans:
            resource = Resource.of(otlp_attributes(resource_spans.resource.attributes), rules)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found += segments_of(span, resource, rules)
        return found


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    spans = Recorded()
    yield spans
    spans.tracer.close()


def downstream() -> tuple[FastAPI, list[str]]:
    """A service that notes the trace header of every request it gets."""
    app = FastAPI()
    seen: list[str] = []

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, str]:
        seen.append(request.headers.get("x-amzn-trace-id", ""))
        return {"ok": "yes"}

    return app, seen


def service(recorded: Recorded, callee: FastAPI) -> FastAPI:
    """A service with an async and a sync endpoint calling `callee`, one using the database,
    one failing and a health check."""
    tracer = recorded.tracer
    app = FastAPI()
    install_error_handlers(app)
    transport = traced_async_transport(tracer, httpx.ASGITransport(callee))
    client = httpx.AsyncClient(transport=transport)
    engine = create_engine("sqlite://", poolclass=StaticPool)
    instrument_engine(engine, tracer)

    @app.get("/call")
    async def call() -> dict[str, str | None]:
        response = await client.get("http://notification/echo")
        return {"status": str(response.status_code), "trace_id": current_trace_id()}

    @app.get("/sync")
    def sync() -> dict[str, str | None]:
        mock = httpx.MockTransport(lambda request: httpx.Response(204))
        with httpx.Client(transport=traced_transport(tracer, mock)) as sync_client:
            sync_client.get("http://mailer.internal/send?to=secret@example.com")
        return {"trace_id": current_trace_id()}

    @app.get("/users")
    def users() -> dict[str, int]:
        with engine.connect() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS users (email TEXT)"))
            conn.execute(text("INSERT INTO users VALUES (:email)"), {"email": "ada@example.com"})
            count = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        return {"count": count}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("it broke")

    @app.get(HEALTH)
    async def health() -> dict[str, str]:
        return {"status": "UP"}

    return app


def client_for(recorded: Recorded, callee: FastAPI | None = None) -> httpx.AsyncClient:
    app = instrument_app(
        service(recorded, callee or downstream()[0]), recorded.tracer, untraced_paths=[HEALTH]
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app, raise_app_exceptions=False), base_url="http://svc"
    )


def root_of(response: httpx.Response) -> str:
    return response.headers["x-amzn-trace-id"].split(";")[0].removeprefix("Root=")


async def test_a_request_is_a_server_span_with_xray_ids_and_the_header(
    recorded: Recorded,
) -> None:
    async with client_for(recorded) as client:
        response = await client.get("/call", headers={"User-Agent": "otel-test/1.0"})
    assert response.status_code == 200
    server = recorded.only(SpanKind.SERVER)
    assert server.parent is None
    assert root_of(response) == xray_trace_id(server.context.trace_id)
    # The logs' trace id is the X-Ray form of the span's.
    assert response.json()["trace_id"] == root_of(response)
    assert server.attributes is not None
    assert server.attributes["http.request.method"] == "GET"
    assert server.attributes["url.full"] == "http://svc/call"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["user_agent.original"] == "otel-test/1.0"
    assert server.attributes["network.peer.address"] == "127.0.0.1"
    [segment] = [doc for doc in recorded.documents() if "type" not in doc]
    assert segment["name"] == NAME
    assert segment["annotations"] == {"app_version": "V2"}
    assert segment["http"]["request"] == {
        "method": "GET",
        "url": "http://svc/call",
        "client_ip": "127.0.0.1",
        "user_agent": "otel-test/1.0",
    }
    assert (segment["fault"], segment["error"]) == (False, False)


async def test_an_outbound_call_is_a_client_span_whose_id_the_callee_gets(
    recorded: Recorded,
) -> None:
    callee, seen = downstream()
    async with client_for(recorded, callee) as client:
        await client.get("/call")
    server, call = recorded.only(SpanKind.SERVER), recorded.only(SpanKind.CLIENT)
    assert call.parent is not None and call.parent.span_id == server.context.span_id
    trace_id = xray_trace_id(server.context.trace_id)
    assert seen == [f"Root={trace_id};Parent={call.context.span_id:016x};Sampled=1"]
    [document] = [doc for doc in recorded.documents() if doc.get("type") == "subsegment"]
    assert (document["name"], document["namespace"]) == ("notification", "remote")
    assert document["http"]["request"] == {"method": "GET", "url": "http://notification/echo"}
    assert document["http"]["response"]["status"] == 200


async def test_a_sync_endpoints_call_records_no_query(recorded: Recorded) -> None:
    async with client_for(recorded) as client:
        response = await client.get("/sync")
    call = recorded.only(SpanKind.CLIENT)
    assert call.attributes is not None
    assert call.attributes["url.full"] == "http://mailer.internal/send"
    assert "secret@example.com" not in json.dumps(dict(call.attributes))
    assert xray_trace_id(call.context.trace_id) == response.json()["trace_id"]


async def test_an_upstream_trace_and_decision_are_continued(recorded: Recorded) -> None:
    trace_id = new_trace_id()
    async with client_for(recorded) as client:
        await client.get("/call", headers={"X-Amzn-Trace-Id": f"Root={trace_id};Parent={PARENT}"})
        unsampled = await client.get(
            "/call", headers={"X-Amzn-Trace-Id": f"Root={new_trace_id()};Sampled=0"}
        )
        # A load balancer's header: a Root, no Parent.
        root_only = new_trace_id()
        await client.get("/call", headers={"X-Amzn-Trace-Id": f"Root={root_only};Sampled=1"})
    servers = [span for span in recorded.spans if span.kind == SpanKind.SERVER]
    assert [xray_trace_id(span.context.trace_id) for span in servers] == [trace_id, root_only]
    assert servers[0].parent is not None and f"{servers[0].parent.span_id:016x}" == PARENT
    assert servers[1].parent is None
    assert len(recorded.spans) == 4  # nothing of the unsampled request
    assert unsampled.json()["trace_id"] == root_of(unsampled)


async def test_a_health_check_is_not_traced_but_answers_with_the_header(
    recorded: Recorded,
) -> None:
    async with client_for(recorded) as client:
        response = await client.get(HEALTH)
    assert response.status_code == 200
    assert response.headers["x-amzn-trace-id"].startswith("Root=1-")
    assert recorded.spans == ()


async def test_sql_is_a_client_span_with_placeholders_only(recorded: Recorded) -> None:
    async with client_for(recorded) as client:
        await client.get("/users")
    calls = [span for span in recorded.spans if span.kind == SpanKind.CLIENT]
    statements = [str((span.attributes or {})["db.statement"]) for span in calls]
    assert "INSERT INTO users VALUES (?)" in statements
    for span in calls:
        assert span.attributes is not None
        assert "ada@example.com" not in json.dumps(dict(span.attributes))
        assert span.attributes["db.system"] == "sqlite"
        assert span.attributes["db.query.text"] == span.attributes["db.statement"]
    insert = next(doc for doc in recorded.documents() if "INSERT" in str(doc.get("sql")))
    assert insert["name"] == "memory@localhost"
    assert insert["namespace"] == "remote"
    assert insert["sql"]["database_type"] == "sqlite"
    assert insert["sql"]["sanitized_query"] == "INSERT INTO users VALUES (?)"


def test_sql_attributes_name_the_database_and_carry_no_password() -> None:
    found = sql_attributes(
        "users@db.internal",
        {
            "url": "mysql+pymysql://app@db.internal:3306/users",
            "database_type": "MariaDB",
            "user": "app",
            "sanitized_query": "SELECT * FROM users WHERE email = %(email)s",
        },
    )
    assert found["db.system"] == "mariadb"
    assert (found["db.name"], found["server.address"], found["server.port"]) == (
        "users",
        "db.internal",
        3306,
    )
    assert found["db.connection_string"] == "mysql://db.internal:3306"
    assert found["db.statement"] == "SELECT * FROM users WHERE email = %(email)s"


async def test_an_error_is_a_fault_with_its_exception(recorded: Recorded) -> None:
    async with client_for(recorded) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    server = recorded.only(SpanKind.SERVER)
    assert server.status.status_code is StatusCode.ERROR
    assert [event.name for event in server.events] == ["exception"]
    [segment] = recorded.documents()
    assert (segment["fault"], segment["error"]) == (True, False)
    assert segment["cause"]["exceptions"][0]["type"] == "RuntimeError"


def test_in_a_pod_the_resource_says_eks() -> None:
    spans = Recorded(
        otel_settings(EKS_CLUSTER_NAME="xray-demo"), KUBERNETES_SERVICE_HOST="10.100.0.1"
    )
    try:
        attributes = spans.tracer.resource.attributes
        assert attributes["cloud.platform"] == "aws_eks"
        assert attributes["k8s.cluster.name"] == "xray-demo"
        assert attributes["service.name"] == NAME
        assert attributes["k8s.pod.name"]
    finally:
        spans.tracer.close()


def test_local_rules_decide_per_path(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps(
            {
                "version": 2,
                "default": {"fixed_target": 0, "rate": 0.0},
                "rules": [{"url_path": "/call*", "fixed_target": 0, "rate": 1.0}],
            }
        )
    )
    spans = Recorded(otel_settings(XRAY_SAMPLING_RULES=str(rules)))
    try:
        for path in ("/call", "/other"):
            with spans.tracer.untraced():
                segment = spans.tracer.begin_segment(None, SamplingRequest("svc", "GET", path))
                spans.tracer.end_segment()
            assert segment.sampled is (path == "/call")
    finally:
        spans.tracer.close()


def test_the_mode_and_the_standard_variables_pick_the_tracer() -> None:
    assert isinstance(
        create_tracer(otel_settings(AWS_XRAY_SDK_ENABLED=False), default_name="x"), DisabledTracer
    )
    assert isinstance(
        create_tracer(otel_settings(OTEL_SDK_DISABLED=True), default_name="x"), DisabledTracer
    )
    tracer = create_tracer(otel_settings(OTEL_SERVICE_NAME="From-Otel"), default_name="x")
    assert isinstance(tracer, OtelTracer) and tracer.name == "From-Otel"
    tracer.close()
    named = create_tracer(
        otel_settings(OTEL_SERVICE_NAME="From-Otel", AWS_XRAY_TRACING_NAME="From-XRay"),
        default_name="x",
    )
    assert named.name == "From-XRay"
    named.close()


@pytest.mark.parametrize(
    ("variables", "endpoint"),
    [
        ({}, "http://localhost:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://agent:4318/"}, "http://agent:4318/v1/traces"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://agent:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces",
            },
            "http://collector:4318/v1/traces",
        ),
    ],
    ids=["default", "base-endpoint", "traces-endpoint"],
)
def test_the_traces_endpoint_falls_back_as_the_otlp_specification_says(
    variables: dict[str, str], endpoint: str
) -> None:
    assert otel_settings(**variables).traces_endpoint == endpoint


def test_a_bad_sampler_or_endpoint_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="OTEL_TRACES_SAMPLER"):
        otel_settings(OTEL_TRACES_SAMPLER="jaeger_remote")
    with pytest.raises(ValueError, match="not an http"):
        otel_settings(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="collector:4318")
    assert otel_settings(OTEL_TRACES_SAMPLER="ParentBased_TraceIdRatio").otel_sampler.root == (
        "traceidratio"
    )


@pytest.mark.parametrize("sampled", ["1", "0"])
def test_the_ids_in_and_out_are_what_the_xray_propagator_makes(
    recorded: Recorded, sampled: str
) -> None:
    """The header is parsed and written without the propagator's round trip, to the same
    effect: the caller's span as it extracts it, a call's header as it injects it."""
    propagator = AwsXRayPropagator()
    header = f"Root={new_trace_id()};Parent={PARENT};Sampled={sampled}"
    request = SamplingRequest(host="example.test", method="GET", path="/")
    with _current.scope():
        segment = recorded.tracer.begin_segment(parse_trace_header(header), request)
        call = recorded.tracer.begin_call("callee")
        carrier: dict[str, str] = {}
        if isinstance(call.call, SpanEntity):
            propagator.inject(carrier, set_span_in_context(call.call.span))
        recorded.tracer.end_call(call)
        recorded.tracer.end_segment()
    extracted = get_current_span(propagator.extract({HEADER_NAME: header})).get_span_context()
    if sampled == "1":
        assert recorded.only(SpanKind.SERVER).parent == extracted
    else:
        assert not recorded.spans
    assert call.trace_header == carrier.get(HEADER_NAME, f"Root={segment.trace_id};Sampled=0")
    assert hash(recorded.tracer.resource) == hash(
        SdkResource(recorded.tracer.resource.attributes, recorded.tracer.resource.schema_url)
    )


@pytest.mark.parametrize("sampled", ["1", "0"])
def test_an_all_zero_parent_starts_the_trace_with_the_headers_decision(
    recorded: Recorded, sampled: str
) -> None:
    """The propagator rejects an all-zero Parent; the request then starts the trace itself,
    still sampled as its header says, and a sampled one carries the service's annotations."""
    trace_id = new_trace_id()
    header = f"Root={trace_id};Parent=0000000000000000;Sampled={sampled}"
    request = SamplingRequest(host="example.test", method="GET", path="/")
    with _current.scope():
        segment = recorded.tracer.begin_segment(parse_trace_header(header), request)
        recorded.tracer.end_segment()
    assert segment.trace_id == trace_id
    if sampled == "0":
        assert not recorded.spans
        return
    [document] = recorded.documents()
    assert "parent_id" not in document
    assert document["annotations"] == {"app_version": "V2"}
