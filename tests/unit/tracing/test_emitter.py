"""Sending to the daemon: resolved once, refreshed in the background, never raising."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from collections.abc import Iterator

import pytest

from devstack.polling import poll_until
from devstack.ports import free_udp_port
from tests.support.tracer import make_tracer, request_segment
from tests.support.udp import SegmentCollector
from tests.support.xray import new_trace_id
from tracing import Endpoint
from tracing._emitter import DaemonEmitter
from tracing._xray import XRayEntity

_lookups: list[str] = []
_recording = threading.Event()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.getaddrinfo" and _recording.is_set():
        _lookups.append(str(args[0]))


sys.addaudithook(_audit)  # audit hooks cannot be removed; it only records while asked to


@pytest.fixture
def lookups() -> Iterator[list[str]]:
    _lookups.clear()
    _recording.set()
    try:
        yield _lookups
    finally:
        _recording.clear()


class FakeEntity:
    """The two things the emitter needs from an SDK entity."""

    def __init__(self, index: int, trace_id: str = "1-5759e988-bd862e3fe1be46a994272793") -> None:
        self.id = f"{index:016x}"
        self.trace_id = trace_id

    def to_dict(self) -> dict[str, object]:
        return {
            "name": "svc",
            "id": self.id,
            "trace_id": self.trace_id,
            "start_time": 1.0,
            "end_time": 2.0,
        }


def send_all(emitter: DaemonEmitter, collector: SegmentCollector, count: int) -> None:
    """Start `emitter`, send `count` documents and see them arrive, then close it."""
    emitter.start()
    trace_id = new_trace_id()
    for index in range(count):
        emitter.send_entity(FakeEntity(index, trace_id))
    collector.wait_for_trace(trace_id, count)
    emitter.close()


def test_an_ip_address_is_never_looked_up(collector: SegmentCollector, lookups: list[str]) -> None:
    emitter = DaemonEmitter(Endpoint("127.0.0.1", collector.port))
    send_all(emitter, collector, 200)
    assert lookups == []
    assert emitter.stats.datagrams_sent == 200


def test_a_host_name_is_resolved_once_not_per_segment(
    collector: SegmentCollector, lookups: list[str]
) -> None:
    emitter = DaemonEmitter(Endpoint("localhost", collector.port), refresh_seconds=3600)
    send_all(emitter, collector, 500)
    assert lookups == ["localhost"]
    assert emitter.target == ("127.0.0.1", collector.port)


def test_a_host_name_is_refreshed_in_the_background(
    collector: SegmentCollector, lookups: list[str]
) -> None:
    emitter = DaemonEmitter(Endpoint("localhost", collector.port), refresh_seconds=0.02)
    emitter.start()
    poll_until(lambda: emitter.stats.resolutions >= 5, "five background refreshes")
    emitter.send_entity(FakeEntity(1))
    emitter.close()
    assert set(lookups) == {"localhost"}
    assert len(lookups) == emitter.stats.resolutions


def test_an_unresolvable_host_drops_quietly(caplog: pytest.LogCaptureFixture) -> None:
    emitter = DaemonEmitter(Endpoint("xray-daemon.invalid", 2000))
    emitter.start()
    poll_until(lambda: emitter.stats.resolutions >= 1, "the lookup to fail")
    for index in range(50):
        emitter.send_entity(FakeEntity(index))  # must not raise
    emitter.close()
    assert emitter.stats.dropped_unresolved == 50
    unresolved = [r for r in caplog.records if "unresolved; dropping segments" in r.getMessage()]
    assert len(unresolved) == 1  # said once, not per segment


def test_nobody_listening_changes_nothing_for_the_caller() -> None:
    emitter = DaemonEmitter(Endpoint("127.0.0.1", free_udp_port()))
    for index in range(50):
        emitter.send_entity(FakeEntity(index))
    emitter.close()
    assert emitter.stats.datagrams_sent + emitter.stats.send_errors == 50


def test_a_sent_segment_is_freed_without_the_cyclic_collector(collector: SegmentCollector) -> None:
    tracer = make_tracer(collector)
    gc.disable()
    try:
        with request_segment(tracer) as segment:
            with tracer.outbound_call("upstream") as call:
                with tracer.outbound_call("nested"):
                    pass
            assert isinstance(segment, XRayEntity) and isinstance(call.call, XRayEntity)
            freed = [weakref.ref(segment.entity), weakref.ref(call.call.entity)]
        collector.wait_for_trace(segment.trace_id, 1)
        del segment, call
        assert [ref() for ref in freed] == [None, None]
    finally:
        gc.enable()
        tracer.close()
