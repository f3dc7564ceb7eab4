"""create_tracer: the backend chosen once from the settings, and what every backend offers."""

from __future__ import annotations

import httpx
import pytest
from aws_xray_sdk import global_sdk_config
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from devstack.polling import poll_until
from devstack.ports import refusing_port
from tests.support.tracer import TracerFactory, make_tracer, request_segment
from tests.support.udp import SegmentCollector
from tests.support.upstream import Upstream
from tracing import (
    TracingSettings,
    create_tracer,
    instrument_app,
    instrument_engine,
    traced_async_transport,
    traced_transport,
)
from tracing._recording import RecordingTracer

OFF = TracingSettings(AWS_XRAY_SDK_ENABLED=False)


def test_with_tracing_off_everything_is_handed_back_untouched() -> None:
    tracer = create_tracer(OFF, default_name="Service")
    app = FastAPI()
    transport = httpx.HTTPTransport()
    async_transport = httpx.AsyncHTTPTransport()
    engine = create_engine("sqlite://")
    instrument_engine(engine, tracer)
    assert instrument_app(app, tracer) is app
    assert traced_transport(tracer, transport) is transport
    assert traced_async_transport(tracer, async_transport) is async_transport
    assert not engine.dispatch.before_cursor_execute  # no event listener added
    with tracer.outbound_call("smtp.example") as call:
        call.put_metadata("recipients", 1, "smtp")  # a no-op, not an error
    assert not call.recorded and call.trace_header is None


def test_the_name_comes_from_aws_xray_tracing_name_before_the_default() -> None:
    assert create_tracer(OFF, default_name="Default").name == "Default"
    named = TracingSettings(AWS_XRAY_SDK_ENABLED=False, AWS_XRAY_TRACING_NAME="Mine")
    assert create_tracer(named, default_name="Default").name == "Mine"


def test_the_settings_alone_turn_tracing_on(
    monkeypatch: pytest.MonkeyPatch, collector: SegmentCollector
) -> None:
    """A process whose environment says AWS_XRAY_SDK_ENABLED=false, which the SDK reads for
    itself, still traces when the settings it was given say so."""
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")
    global_sdk_config.set_sdk_enabled(True)  # the SDK re-reads its variable: now off
    assert not global_sdk_config.sdk_enabled()
    tracer = make_tracer(collector)  # built now, in this process's state
    try:
        with request_segment(tracer) as segment:
            pass
        [doc] = collector.wait_for_trace(segment.trace_id, 1)
        assert doc["name"] == "Test-Service"
    finally:
        tracer.close()
        monkeypatch.delenv("AWS_XRAY_SDK_ENABLED")
        global_sdk_config.set_sdk_enabled(True)


def test_an_outbound_call_records_metadata_and_its_failure(
    new_tracer: TracerFactory, collector: SegmentCollector
) -> None:
    tracer = new_tracer()
    with request_segment(tracer) as segment:
        with tracer.outbound_call("smtp.example") as call:
            call.put_metadata("recipients", 2, "smtp")
            call.put_annotation("kind", "email")
        with pytest.raises(ConnectionRefusedError), tracer.outbound_call("smtp.example"):
            raise ConnectionRefusedError("refused")
    [doc] = collector.wait_for_trace(segment.trace_id, 1)
    sent, failed = doc["subsegments"]
    assert sent["metadata"] == {"smtp": {"recipients": 2}}
    assert sent["annotations"] == {"kind": "email"}
    assert "traced" not in sent  # not propagated: the SMTP server records nothing
    assert failed["fault"] is True
    assert failed["cause"]["exceptions"][0]["type"] == "ConnectionRefusedError"


def test_an_engine_under_an_untraced_block_records_nothing(
    new_tracer: TracerFactory, collector: SegmentCollector
) -> None:
    tracer = new_tracer(AWS_XRAY_CONTEXT_MISSING="RUNTIME_ERROR")
    engine = create_engine("sqlite://")
    instrument_engine(engine, tracer)
    with tracer.untraced() as trace_id, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert collector.for_trace(trace_id) == []


def test_the_sampler_polls_the_daemon_the_settings_name(
    monkeypatch: pytest.MonkeyPatch, collector: SegmentCollector, upstream: Upstream
) -> None:
    """Without a rules file the sampler asks the daemon's TCP address for rules: the one in
    the settings, whatever AWS_XRAY_DAEMON_ADDRESS the SDK would read for itself."""
    with refusing_port() as elsewhere:
        monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{elsewhere}")
        settings = TracingSettings(
            AWS_XRAY_DAEMON_ADDRESS=f"tcp:127.0.0.1:{upstream.port} udp:{collector.address}"
        )
        tracer = create_tracer(settings, default_name="Polling-Service")
        assert isinstance(tracer, RecordingTracer)
        try:
            with request_segment(tracer, sampled=None):
                pass
            poll_until(
                lambda: any(path == "/GetSamplingRules" for path, _ in upstream.requests),
                "the sampler to ask the settings' daemon for its rules",
            )
        finally:
            tracer.close()
