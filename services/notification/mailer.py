"""Deliver emails over SMTP (STARTTLS when the server offers it), traced as a remote call.

Delivery runs after the 202 response, in FastAPI's background tasks; a failure is logged and
recorded as a fault on the SMTP subsegment of the request's trace, never raised.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tracing import Tracer

from .schemas import EmailRequest
from .settings import Settings

log = logging.getLogger(__name__)


class Mailer:
    def __init__(self, settings: Settings, tracer: Tracer) -> None:
        self._settings = settings
        self._tracer = tracer

    def deliver(self, request: EmailRequest) -> None:
        settings = self._settings
        try:
            with self._tracer.outbound_call(settings.mail_server_host) as call:
                call.put_metadata("recipients", len(request.recipients), "smtp")
                self._send(self._message(request), request.recipients)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning(
                "email to %d recipient(s) not delivered via %s:%s: %s",
                len(request.recipients),
                settings.mail_server_host,
                settings.mail_server_port,
                exc,
            )
        else:
            log.info("email delivered to %d recipient(s)", len(request.recipients))

    def _message(self, request: EmailRequest) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.mail_from_address
        if request.to_emails:
            message["To"] = ", ".join(request.to_emails)
        if request.cc_emails:
            message["Cc"] = ", ".join(request.cc_emails)
        message["Subject"] = request.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="notification")
        message.set_content(request.content)
        return message  # Bcc recipients get it via the envelope only

    def _send(self, message: EmailMessage, recipients: list[str]) -> None:
        settings = self._settings
        with smtplib.SMTP(
            settings.mail_server_host,
            settings.mail_server_port,
            timeout=settings.mail_timeout_seconds,
        ) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.mail_server_username and settings.mail_server_password:
                smtp.login(
                    settings.mail_server_username, settings.mail_server_password.get_secret_value()
                )
            smtp.send_message(message, to_addrs=recipients)
