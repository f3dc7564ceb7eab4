"""Fixtures for the in-process tests: a real UDP collector, tracers sending to it, an upstream."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.tracer import TracerFactory, make_tracer
from tests.support.udp import SegmentCollector
from tests.support.upstream import Upstream, upstream_server
from tracing import Tracer


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
