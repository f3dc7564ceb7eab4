"""The ASGI middleware: one segment per request, with the fields X-Ray expects."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI, HTTPException
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from servicekit import install_error_handlers
from tests.support.tracer import TracerFactory
from tests.support.udp import Document, SegmentCollector
from tests.support.upstream import Upstream
from tests.support.xray import new_trace_id
from tracing import (
    AnnotationValue,
    OutboundCall,
    SamplingRequest,
    Segment,
    TraceHeader,
    Tracer,
    instrument_app,
    traced_async_transport,
)
from tracing._middleware import TracingMiddleware

TRACE_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
# A trace id no test records anything under: tests that do draw a new one each time.
ROOT = "1-5759e988-bd862e3fe1be46a994272793"
pytestmark = pytest.mark.anyio
PARENT = "53995c3f42cd8ad8"


@pytest.fixture
def tracer(new_tracer: TracerFactory) -> Tracer:
    return new_tracer()


def build_app(tracer: Tracer, upstream_url: str = "http://127.0.0.1:9") -> ASGIApp:
    app = FastAPI()
    install_error_handlers(app)
    client = httpx.AsyncClient(transport=traced_async_transport(tracer))

    @app.get("/items")
    async def items() -> dict[str, int]:
        return {"count": 3}

    @app.get("/status/{code}")
    async def status(code: int) -> dict[str, int]:
        raise HTTPException(code, "as asked")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom: secret detail")

    @app.get("/health", response_class=PlainTextResponse)
    async def health() -> str:
        return "UP"

    @app.get("/later")
    async def later(background: BackgroundTasks) -> dict[str, str]:
        background.add_task(client.get, f"{upstream_url}/after-response")
        return {"queued": "yes"}

    return instrument_app(app, tracer, untraced_paths={"/health"})


async def call(app: ASGIApp, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.example") as client:
        return await client.get(path, headers=headers)


def only_document(collector: SegmentCollector, trace_id: str) -> Document:
    [doc] = collector.wait_for_trace(trace_id, 1)
    return doc


async def test_a_request_becomes_one_segment_with_its_http_fields(
    tracer: Tracer, collector: SegmentCollector
) -> None:
    response = await call(build_app(tracer), "/items?secret=1", {"User-Agent": "probe/1.0"})
    assert response.status_code == 200
    trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    assert TRACE_ID.match(trace_id)
    doc = only_document(collector, trace_id)
    assert doc["name"] == "Test-Service"
    assert doc["http"] == {
        "request": {
            "method": "GET",
            "url": "http://api.example/items",
            "client_ip": "10.1.2.3",
            "user_agent": "probe/1.0",
        },
        "response": {"status": 200, "content_length": len(response.content)},
    }
    assert not {"error", "fault", "throttle", "parent_id"} & doc.keys()
    assert doc["end_time"] >= doc["start_time"]


@pytest.mark.parametrize(
    ("status", "flags"),
    [
        (400, {"error"}),
        (404, {"error"}),
        (429, {"error", "throttle"}),
        (500, {"fault"}),
        (503, {"fault"}),
    ],
)
async def test_the_status_sets_error_throttle_and_fault(
    tracer: Tracer, collector: SegmentCollector, status: int, flags: set[str]
) -> None:
    response = await call(build_app(tracer), f"/status/{status}")
    assert response.status_code == status
    assert response.json()["message"] == "as asked"
    doc = only_document(collector, response.headers["X-Amzn-Trace-Id"].removeprefix("Root="))
    assert {flag for flag in ("error", "throttle", "fault") if doc.get(flag)} == flags
    assert doc["http"]["response"]["status"] == status


async def test_an_unhandled_exception_is_a_fault_with_its_cause_and_a_json_500(
    tracer: Tracer, collector: SegmentCollector, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await call(build_app(tracer), "/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["message"] == "Internal server error"
    assert "secret" not in response.text and "Traceback" not in response.text
    trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    assert body["trace_id"] == trace_id
    doc = only_document(collector, trace_id)
    assert doc["fault"] is True
    assert doc["http"]["response"]["status"] == 500
    [exception] = doc["cause"]["exceptions"]
    assert exception["type"] == "RuntimeError"
    assert exception["message"] == "boom: secret detail"
    assert exception["stack"][-1]["label"] == "boom"
    logged = [r for r in caplog.records if "unhandled error in GET /boom" in r.getMessage()]
    assert len(logged) == 1  # once, by the middleware, not again by the server


async def test_an_incoming_trace_is_continued(tracer: Tracer, collector: SegmentCollector) -> None:
    root = new_trace_id()
    header = f"Root={root};Parent={PARENT};Sampled=1"
    response = await call(build_app(tracer), "/items", {"X-Amzn-Trace-Id": header})
    assert response.headers["X-Amzn-Trace-Id"] == f"Root={root}"
    doc = only_document(collector, root)
    assert doc["parent_id"] == PARENT


async def test_an_unsampled_trace_sends_nothing_but_keeps_its_id(
    tracer: Tracer, collector: SegmentCollector
) -> None:
    unsampled = new_trace_id()
    app = build_app(tracer)
    response = await call(app, "/items", {"X-Amzn-Trace-Id": f"Root={unsampled};Sampled=0"})
    assert response.headers["X-Amzn-Trace-Id"] == f"Root={unsampled}"
    # A later sampled request's segment arriving proves the unsampled one was never sent.
    marker = (await call(app, "/items")).headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    collector.wait_for_trace(marker, 1)
    assert collector.for_trace(unsampled) == []


async def test_a_caller_asking_for_the_decision_gets_it(tracer: Tracer) -> None:
    response = await call(
        build_app(tracer), "/items", {"X-Amzn-Trace-Id": f"Root={ROOT};Sampled=?"}
    )
    assert response.headers["X-Amzn-Trace-Id"] == f"Root={ROOT};Sampled=1"


@pytest.mark.parametrize(
    "header", ["garbage", "Root=not-a-trace", f"Root={ROOT};Parent=xyz", f"Root={ROOT};Sampled=7"]
)
async def test_a_malformed_header_starts_a_fresh_trace(
    tracer: Tracer, collector: SegmentCollector, header: str
) -> None:
    response = await call(build_app(tracer), "/items", {"X-Amzn-Trace-Id": header})
    assert response.status_code == 200
    trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    assert TRACE_ID.match(trace_id) and trace_id != ROOT
    assert "parent_id" not in only_document(collector, trace_id)


FORWARDED = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1", "X-Forwarded-Proto": "https"}


async def test_a_trusted_proxy_names_the_client_and_scheme(
    tracer: Tracer, collector: SegmentCollector
) -> None:
    """uvicorn applies X-Forwarded-For and -Proto from FORWARDED_ALLOW_IPS (here the caller,
    10.1.2.3); the segment records what it established."""
    app = ProxyHeadersMiddleware(build_app(tracer), trusted_hosts="10.1.2.3")  # type: ignore[arg-type]
    response = await call(app, "/items", FORWARDED)  # type: ignore[arg-type]
    doc = only_document(collector, response.headers["X-Amzn-Trace-Id"].removeprefix("Root="))
    request = doc["http"]["request"]
    assert request["client_ip"] == "10.0.0.1"  # the nearest address the proxy did not add
    assert request["x_forwarded_for"] is True
    assert request["url"] == "https://api.example/items"


@pytest.mark.parametrize(
    "headers",
    [
        FORWARDED,
        {"X-Forwarded-Proto": "javascript", "X-Forwarded-For": "203.0.113.7"},
        {"Host": "javascript:alert(1)//"},
        {"Host": "a b<script>"},
    ],
)
async def test_forwarding_headers_from_anyone_else_are_not_believed(
    tracer: Tracer, collector: SegmentCollector, headers: dict[str, str]
) -> None:
    app = ProxyHeadersMiddleware(build_app(tracer), trusted_hosts="192.0.2.1")  # type: ignore[arg-type]
    response = await call(app, "/items", headers)  # type: ignore[arg-type]
    doc = only_document(collector, response.headers["X-Amzn-Trace-Id"].removeprefix("Root="))
    request = doc["http"]["request"]
    assert request["client_ip"] == "10.1.2.3"
    assert "x_forwarded_for" not in request
    assert request["url"] in ("http://api.example/items", "http://localhost/items")


async def test_health_checks_are_not_traced_but_get_a_trace_header(
    tracer: Tracer, collector: SegmentCollector
) -> None:
    app = build_app(tracer)
    root = new_trace_id()
    response = await call(app, "/health", {"X-Amzn-Trace-Id": f"Root={root};Sampled=1"})
    assert response.text == "UP"
    assert response.headers["X-Amzn-Trace-Id"] == f"Root={root}"
    marker = (await call(app, "/items")).headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    collector.wait_for_trace(marker, 1)
    assert collector.for_trace(root) == []


async def test_a_caller_asking_a_health_check_for_the_decision_is_told_not_sampled(
    tracer: Tracer,
) -> None:
    """Health checks are never recorded; a caller sending `Sampled=?` still gets its answer."""
    response = await call(
        build_app(tracer), "/health", {"X-Amzn-Trace-Id": f"Root={ROOT};Sampled=?"}
    )
    assert response.headers["X-Amzn-Trace-Id"] == f"Root={ROOT};Sampled=0"


@pytest.mark.parametrize(("path", "status"), [("/nowhere", 404), ("/status/abc", 422)])
async def test_framework_errors_are_traced_with_the_header(
    tracer: Tracer, collector: SegmentCollector, path: str, status: int
) -> None:
    response = await call(build_app(tracer), path)
    assert response.status_code == status
    assert response.json()["status"] == status
    doc = only_document(collector, response.headers["X-Amzn-Trace-Id"].removeprefix("Root="))
    assert doc["error"] is True


async def test_background_work_after_the_response_stays_in_the_request_segment(
    tracer: Tracer, collector: SegmentCollector, upstream: Upstream
) -> None:
    response = await call(build_app(tracer, upstream.base_url), "/later")
    doc = only_document(collector, response.headers["X-Amzn-Trace-Id"].removeprefix("Root="))
    [sub] = doc["subsegments"]
    assert sub["http"]["request"]["url"].endswith("/after-response")
    assert sub["parent_id"] == doc["id"]
    # The segment lasts as long as the client waited, not as long as the background work.
    assert doc["end_time"] <= sub["end_time"]


async def test_non_http_scopes_pass_straight_through(tracer: Tracer) -> None:
    seen = []

    async def inner(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        seen.append(scope["type"])

    await instrument_app(inner, tracer)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


async def test_the_url_is_the_path_as_the_client_sent_it_under_a_root_path(
    tracer: Tracer, collector: SegmentCollector
) -> None:
    """Servers put root_path in the path already: the URL must not carry it twice."""
    transport = httpx.ASGITransport(app=build_app(tracer), root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://api.example") as client:
        response = await client.get("/api/items")
    doc = only_document(collector, response.headers["X-Amzn-Trace-Id"].removeprefix("Root="))
    assert doc["http"]["request"]["url"] == "http://api.example/api/items"


class BrokenSegment:
    """A segment whose every recording fails, as a bug in a backend would."""

    trace_id = ROOT
    sampled = True

    def put_annotation(self, key: str, value: AnnotationValue) -> None:
        raise RuntimeError("tracing bug")

    def put_metadata(self, key: str, value: object, namespace: str = "default") -> None:
        raise RuntimeError("tracing bug")

    def put_http_meta(self, key: str, value: str | int | bool) -> None:
        raise RuntimeError("tracing bug")

    def set_sql(self, sql: Mapping[str, str]) -> None:
        raise RuntimeError("tracing bug")

    def add_exception(self, error: BaseException) -> None:
        raise RuntimeError("tracing bug")


class BrokenRecorder:
    """A backend that fails to open segments (`begin`) or to record on and close them."""

    name = "Broken-Service"

    def __init__(self, fails_at: str) -> None:
        self.fails_at = fails_at

    @contextmanager
    def untraced(self, trace_id: str | None = None) -> Iterator[str]:
        yield trace_id or ROOT

    def begin_segment(self, incoming: TraceHeader | None, request: SamplingRequest) -> Segment:
        if self.fails_at == "begin":
            raise RuntimeError("tracing bug")
        return BrokenSegment()

    def end_segment(self, end_time: float | None = None) -> None:
        raise RuntimeError("tracing bug")

    def begin_call(self, name: str, *, propagated: bool = False) -> OutboundCall:
        raise RuntimeError("tracing bug")

    def end_call(self, call: OutboundCall, error: BaseException | None = None) -> None:
        raise RuntimeError("tracing bug")

    @contextmanager
    def outbound_call(self, name: str, *, propagated: bool = False) -> Iterator[OutboundCall]:
        raise RuntimeError("tracing bug")
        yield OutboundCall()


@pytest.mark.parametrize("fails_at", ["begin", "recording"])
@pytest.mark.parametrize(
    ("path", "status"), [("/items", 200), ("/status/404", 404), ("/boom", 500)]
)
async def test_a_tracing_failure_never_fails_the_request(
    tracer: Tracer,
    caplog: pytest.LogCaptureFixture,
    fails_at: str,
    path: str,
    status: int,
) -> None:
    app = build_app(tracer)
    assert isinstance(app, TracingMiddleware)
    broken = TracingMiddleware(app.app, recorder=BrokenRecorder(fails_at))
    # What the client gets: an uninstrumented app re-raises after its 500, as this one may.
    transport = httpx.ASGITransport(app=broken, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR):
        async with httpx.AsyncClient(transport=transport, base_url="http://api.example") as client:
            response = await client.get(path)
    assert response.status_code == status
    assert response.json()  # the app's own answer, whole
    assert any("tracing failed" in record.getMessage() for record in caplog.records)
