"""Tracers wired to a real UDP collector, for in-process tests of the tracing package."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from devstack import SAMPLE_ALL_RULES
from tracing import SamplingRequest, Segment, TraceHeader, Tracer, TracingSettings, create_tracer
from tracing._current import scope
from tracing._header import Sampled
from tracing._recording import RecordingTracer

from .udp import SegmentCollector
from .xray import new_trace_id

# What the `new_tracer` fixture hands a test: a tracer with some settings overridden.
TracerFactory = Callable[..., Tracer]


def tracing_to(collector: SegmentCollector, **settings: Any) -> TracingSettings:
    """Tracing on, every request sampled, segments to `collector`; any setting overridden."""
    values = {
        "AWS_XRAY_DAEMON_ADDRESS": collector.address,
        "XRAY_SAMPLING_RULES": str(SAMPLE_ALL_RULES),
        "AWS_XRAY_SDK_ENABLED": True,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        **settings,
    }
    return TracingSettings(**values)


def make_tracer(collector: SegmentCollector, name: str = "Test-Service", **settings: Any) -> Tracer:
    tracer = create_tracer(tracing_to(collector, **settings), default_name=name)
    tracer.start()
    return tracer


@contextmanager
def request_segment(tracer: Tracer, *, sampled: bool | None = True) -> Iterator[Segment]:
    """What the middleware does around one request, for code that runs inside one; with
    `sampled=None`, the tracer's sampling decides."""
    assert isinstance(tracer, RecordingTracer), "a request segment needs tracing on"
    decision: Sampled | None = None if sampled is None else ("1" if sampled else "0")
    header = TraceHeader(new_trace_id(), None, decision)
    with scope():
        segment = tracer.begin_segment(header, SamplingRequest("test", "GET", "/"))
        try:
            yield segment
        finally:
            tracer.end_segment()
