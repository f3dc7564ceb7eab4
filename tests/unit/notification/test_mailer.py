"""Delivery over SMTP against a real aiosmtpd on loopback: STARTTLS, failures, the trace."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from devstack.ports import refusing_port
from notification.mailer import BacklogFull, Mailer
from notification.schemas import EmailRequest
from tests.support.inprocess import notification_settings
from tests.support.smtp import SmtpServer
from tests.support.tracer import TracerFactory, request_segment
from tests.support.udp import SegmentCollector
from tracing import TracingSettings, create_tracer

pytestmark = pytest.mark.anyio
OFF = create_tracer(TracingSettings(AWS_XRAY_SDK_ENABLED=False), default_name="Mailer")
EMAIL = EmailRequest(subject="Hi", content="Text", toEmails=["to@example.com"])


async def deliver(mailer: Mailer, email: EmailRequest = EMAIL) -> None:
    """As the /send route does: a place in the backlog, then the delivery."""
    mailer.accept()
    await mailer.deliver(email)


@pytest.fixture
def tls_smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """An SMTP server that requires STARTTLS, with a certificate this process trusts."""
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # read by ssl.create_default_context()
    server = SmtpServer(tls_context=server_context)
    yield server
    server.stop()


async def test_mail_goes_over_starttls_when_the_server_offers_it(tls_smtp: SmtpServer) -> None:
    settings = notification_settings(
        AWS_MAIL_SERVER_HOST="127.0.0.1", AWS_MAIL_SERVER_PORT=tls_smtp.port
    )
    await deliver(Mailer(settings, OFF))
    assert tls_smtp.wait_for_mail_to("to@example.com").used_tls is True


async def test_a_delivery_is_a_call_with_its_recipient_count(
    smtp: SmtpServer, new_tracer: TracerFactory, collector: SegmentCollector
) -> None:
    tracer = new_tracer()
    settings = notification_settings(
        AWS_MAIL_SERVER_HOST="127.0.0.1", AWS_MAIL_SERVER_PORT=smtp.port
    )
    with request_segment(tracer) as segment:
        await deliver(Mailer(settings, tracer))
    [doc] = collector.wait_for_trace(segment.trace_id, 1)
    [call] = doc["subsegments"]
    assert call["name"] == "127.0.0.1" and call["namespace"] == "remote"
    assert call["metadata"] == {"smtp": {"recipients": 1}}
    assert not {"fault", "error"} & call.keys()


async def test_an_smtp_server_down_is_logged_and_faults_the_call_never_raised(
    new_tracer: TracerFactory, collector: SegmentCollector, caplog: pytest.LogCaptureFixture
) -> None:
    tracer = new_tracer()
    with refusing_port() as port:
        settings = notification_settings(
            AWS_MAIL_SERVER_HOST="127.0.0.1", AWS_MAIL_SERVER_PORT=port
        )
        with caplog.at_level(logging.WARNING), request_segment(tracer) as segment:
            await deliver(Mailer(settings, tracer))
    [doc] = collector.wait_for_trace(segment.trace_id, 1)
    [call] = doc["subsegments"]
    assert call["fault"] is True
    assert call["cause"]["exceptions"][0]["type"] == "ConnectionRefusedError"
    [error] = [r for r in caplog.records if "not delivered" in r.getMessage()]
    assert error.levelname == "ERROR"
    assert f"email to 1 recipient(s) not delivered via 127.0.0.1:{port}" in error.getMessage()
    assert "to@example.com" not in error.getMessage()  # addresses stay out of the logs


async def test_the_backlog_refuses_past_its_size_and_frees_a_place_per_delivery(
    smtp: SmtpServer,
) -> None:
    settings = notification_settings(
        AWS_MAIL_SERVER_HOST="127.0.0.1", AWS_MAIL_SERVER_PORT=smtp.port, MAIL_BACKLOG=2
    )
    mailer = Mailer(settings, OFF)
    mailer.accept()
    mailer.accept()
    assert mailer.full
    with pytest.raises(BacklogFull, match="2 emails are waiting to be delivered"):
        mailer.accept()
    await mailer.deliver(EMAIL)
    assert not mailer.full and mailer.pending == 1
    mailer.accept()
