"""Outbound httpx calls: a remote subsegment each, and the trace header propagated."""

from __future__ import annotations

import logging

import httpx
import pytest
from aws_xray_sdk.core.exceptions.exceptions import SegmentNotFoundException

from devstack.ports import refusing_port
from tests.support.tracer import TracerFactory, request_segment
from tests.support.udp import Document, SegmentCollector
from tests.support.upstream import Upstream
from tracing import Segment, Tracer, parse_trace_header, traced_async_transport, traced_transport
from tracing._httpx import _recorded_url

MISSING = "cannot find the current segment/subsegment"


def only_call(collector: SegmentCollector, segment: Segment) -> Document:
    [doc] = collector.wait_for_trace(segment.trace_id, 1)
    [sub] = doc["subsegments"]
    assert sub["parent_id"] == doc["id"]
    return sub  # type: ignore[no-any-return]


def test_a_call_is_a_remote_subsegment_and_the_callee_gets_its_id(
    new_tracer: TracerFactory, collector: SegmentCollector, upstream: Upstream
) -> None:
    tracer = new_tracer()
    url = f"http://user:pw@127.0.0.1:{upstream.port}/items?secret=1#frag"
    with (
        httpx.Client(transport=traced_transport(tracer)) as client,
        request_segment(tracer) as segment,
    ):
        response = client.get(url)
    assert response.status_code == 200
    sub = only_call(collector, segment)
    assert sub["name"] == "127.0.0.1"
    assert sub["namespace"] == "remote"
    assert sub["traced"] is True
    assert sub["http"]["request"] == {
        "method": "GET",
        "url": f"http://127.0.0.1:{upstream.port}/items",
        "traced": True,  # where the guide's examples put it, too
    }
    assert sub["http"]["response"]["status"] == 200
    sent = parse_trace_header(upstream.headers_for("/items?secret=1")["x-amzn-trace-id"])
    assert sent is not None
    assert (sent.root, sent.parent, sent.sampled) == (segment.trace_id, sub["id"], "1")


@pytest.mark.anyio
async def test_the_async_client_is_traced_the_same_way(
    new_tracer: TracerFactory, collector: SegmentCollector, upstream: Upstream
) -> None:
    tracer = new_tracer()
    async with httpx.AsyncClient(transport=traced_async_transport(tracer)) as client:
        with request_segment(tracer) as segment:
            await client.get(f"{upstream.base_url}/status/503")
    sub = only_call(collector, segment)
    assert sub["http"]["response"]["status"] == 503
    assert sub["fault"] is True


@pytest.mark.parametrize(("status", "flag"), [(404, "error"), (429, "throttle"), (500, "fault")])
def test_the_callee_status_flags_the_subsegment(
    new_tracer: TracerFactory,
    collector: SegmentCollector,
    upstream: Upstream,
    status: int,
    flag: str,
) -> None:
    tracer = new_tracer()
    with (
        httpx.Client(transport=traced_transport(tracer)) as client,
        request_segment(tracer) as segment,
    ):
        client.get(f"{upstream.base_url}/status/{status}")
    assert only_call(collector, segment)[flag] is True


def test_a_failed_connection_is_a_fault_with_its_cause(
    new_tracer: TracerFactory, collector: SegmentCollector
) -> None:
    tracer = new_tracer()
    with (
        httpx.Client(transport=traced_transport(tracer)) as client,
        request_segment(tracer) as segment,
        refusing_port() as port,
    ):
        with pytest.raises(httpx.ConnectError):
            client.get(f"http://127.0.0.1:{port}/down")
    sub = only_call(collector, segment)
    assert sub["fault"] is True
    assert sub["cause"]["exceptions"][0]["type"] == "ConnectError"


def test_an_unsampled_request_tells_the_callee_not_to_sample(
    new_tracer: TracerFactory, collector: SegmentCollector, upstream: Upstream
) -> None:
    tracer = new_tracer()
    with httpx.Client(transport=traced_transport(tracer)) as client:
        with request_segment(tracer, sampled=False) as segment:
            client.get(f"{upstream.base_url}/unsampled")
    sent = parse_trace_header(upstream.headers_for("/unsampled")["x-amzn-trace-id"])
    assert sent is not None and (sent.root, sent.parent, sent.sampled) == (
        segment.trace_id,
        None,
        "0",
    )


def test_tracing_off_leaves_the_transport_alone(
    new_tracer: TracerFactory, collector: SegmentCollector
) -> None:
    tracer = new_tracer(AWS_XRAY_SDK_ENABLED=False)
    transport = httpx.HTTPTransport()
    assert traced_transport(tracer, transport) is transport


class TestOutsideAnySegment:
    """AWS_XRAY_CONTEXT_MISSING keeps the SDK's meaning for an instrumented call."""

    def call(self, tracer: Tracer, upstream: Upstream) -> httpx.Response:
        with httpx.Client(transport=traced_transport(tracer)) as client:
            return client.get(f"{upstream.base_url}/outside")

    def test_runtime_error_raises(
        self, new_tracer: TracerFactory, collector: SegmentCollector, upstream: Upstream
    ) -> None:
        tracer = new_tracer(AWS_XRAY_CONTEXT_MISSING="RUNTIME_ERROR")
        with pytest.raises(SegmentNotFoundException, match=MISSING):
            self.call(tracer, upstream)
        assert upstream.requests == []

    @pytest.mark.parametrize(
        ("strategy", "said"),
        [
            (
                "LOG_ERROR",
                [
                    "cannot find the current segment/subsegment, please make sure you have a "
                    "segment open"
                ],
            ),
            ("IGNORE_ERROR", []),
        ],
    )
    def test_log_error_logs_once_ignore_error_says_nothing_and_both_call(
        self,
        new_tracer: TracerFactory,
        upstream: Upstream,
        caplog: pytest.LogCaptureFixture,
        strategy: str,
        said: list[str],
    ) -> None:
        tracer = new_tracer(AWS_XRAY_CONTEXT_MISSING=strategy)
        with caplog.at_level(logging.DEBUG):
            assert self.call(tracer, upstream).status_code == 200
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == said
        assert "x-amzn-trace-id" not in upstream.headers_for("/outside")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8096/notification/xray",
        "https://user:pw@example.com/a/b?q=1#frag",
        "http://[::1]:8080/x?y=2",
        "http://Bücher.example/ä b?x=ü",
        "https://example.com:443/default-port",
        "http://example.com/%2Fencoded%20path?x",
        "HTTP://EXAMPLE.com/Case",
    ],
)
def test_the_recorded_url_drops_credentials_query_and_fragment_as_httpx_would(url: str) -> None:
    parsed = httpx.URL(url)
    expected = parsed.copy_with(username=None, password=None, query=None, fragment=None)
    assert _recorded_url(parsed) == str(expected)
