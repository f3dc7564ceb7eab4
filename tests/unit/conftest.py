"""Fixtures for the in-process tests: a real UDP collector, tracers sending to it, an upstream,
an SMTP server; settings from the test alone."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.inprocess import service_variables
from tests.support.smtp import SmtpServer
from tests.support.tracer import TracerFactory, make_tracer
from tests.support.udp import SegmentCollector
from tests.support.upstream import Upstream, upstream_server
from tracing import Tracer


@pytest.fixture(autouse=True)
def _settings_from_the_test_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service variable set in the shell that runs the tests never reaches their settings."""
    for name in service_variables():
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def collector() -> Iterator[SegmentCollector]:
    collector = SegmentCollector()
    yield collector
    collector.close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with upstream_server() as server:
        yield server


@pytest.fixture
def new_tracer(collector: SegmentCollector) -> Iterator[TracerFactory]:
    """Tracers sending to `collector`, with any setting overridden; all closed afterwards."""
    made: list[Tracer] = []

    def factory(**settings: Any) -> Tracer:
        made.append(make_tracer(collector, **settings))
        return made[-1]

    yield factory
    for tracer in made:
        tracer.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()
