"""Fixtures for the in-process tests: a real UDP collector, tracers sending to it, an upstream,
an SMTP server; settings from the test alone."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.support.inprocess import (
    Notification,
    notification_service,
    notification_settings,
    service_variables,
)
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
def upstream() -> Iterator[Upstream]:
    with upstream_server() as server:
        yield server


@pytest.fixture(scope="session")
def new_tracer(collector: SegmentCollector) -> Iterator[TracerFactory]:
    """Tracers sending to `collector`, with any setting overridden; closed at the end.

    One tracer per distinct set of overrides, made when first asked for: building one costs
    the SDK's recorder a botocore client (0.1-0.3 s), and a tracer keeps no state between
    requests that another test could see."""
    made: dict[tuple[tuple[str, Any], ...], Tracer] = {}

    def factory(**settings: Any) -> Tracer:
        key = tuple(sorted(settings.items()))
        if key not in made:
            made[key] = make_tracer(collector, **settings)
        return made[key]

    yield factory
    for tracer in made.values():
        tracer.close()


@pytest.fixture
async def notification(smtp: SmtpServer) -> AsyncIterator[Notification]:
    """Notification V1 in-process, mailing `smtp`."""
    settings = notification_settings(
        AWS_MAIL_SERVER_HOST="127.0.0.1", AWS_MAIL_SERVER_PORT=smtp.port
    )
    async with notification_service(settings) as service:
        yield service
