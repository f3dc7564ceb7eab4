"""Deliver emails over SMTP (STARTTLS when the server offers it), traced as a remote call.

An accepted email (202) is delivered after the response, in the request's background task and
so in its trace; a failure is logged at ERROR with the trace id and recorded as a fault on the
SMTP subsegment, never raised. What waits is bounded:

- the backlog: at most `mail_backlog` accepted emails not yet delivered; past it `accept`
  raises BacklogFull (503: the caller keeps the email and tries again later);
- the senders: at most `mail_concurrency` SMTP connections at once (threads: smtplib blocks),
  each bounded by `mail_timeout_seconds`;
- shutdown: uvicorn lets the backlog drain for SHUTDOWN_GRACE_SECONDS, then cancels what is
  left. An email not yet being sent is then dropped, logged and faulted as undelivered; one
  being sent is let finish, and `drain` keeps the process (and its tracer) until it has.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tracing import Tracer

from .schemas import EmailRequest
from .settings import Settings

log = logging.getLogger(__name__)
DRAIN_POLL_SECONDS = 0.05


class BacklogFull(Exception):
    """As many emails as the backlog holds are waiting to be delivered."""


class ShutDownFirst(Exception):
    """The service stopped before the email could be sent."""


class Mailer:
    def __init__(self, settings: Settings, tracer: Tracer) -> None:
        self._settings = settings
        self._tracer = tracer
        self._senders = ThreadPoolExecutor(settings.mail_concurrency, thread_name_prefix="smtp")
        self.pending = 0

    @property
    def full(self) -> bool:
        return self.pending >= self._settings.mail_backlog

    def accept(self) -> None:
        """Take a place in the backlog for one email, or raise BacklogFull."""
        if self.full:
            raise BacklogFull(f"{self.pending} emails are waiting to be delivered")
        self.pending += 1

    async def deliver(self, request: EmailRequest) -> None:
        """Send an accepted email (its place taken by `accept`) and give the place back."""
        try:
            await self._deliver(request)
        finally:
            self.pending -= 1

    async def _deliver(self, request: EmailRequest) -> None:
        settings = self._settings
        recipients = len(request.recipients)
        send = self._senders.submit(self._send, self._message(request), request.recipients)
        try:
            with self._tracer.outbound_call(settings.mail_server_host) as call:
                call.put_metadata("recipients", recipients, "smtp")
                await _outcome(send)
        except ShutDownFirst as exc:
            log.error("email to %d recipient(s) not delivered: %s", recipients, exc)
        except (OSError, smtplib.SMTPException) as exc:
            log.error(
                "email to %d recipient(s) not delivered via %s:%s: %s",
                recipients,
                settings.mail_server_host,
                settings.mail_server_port,
                exc,
            )
        else:
            log.info("email delivered to %d recipient(s)", recipients)

    async def drain(self, timeout: float) -> None:
        """Wait, at most `timeout` seconds, until no email is waiting or being sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.pending and loop.time() < deadline:
            await asyncio.sleep(DRAIN_POLL_SECONDS)
        if self.pending:
            log.error("stopping with %d email(s) still being sent", self.pending)
        self._senders.shutdown(wait=False, cancel_futures=True)

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


async def _outcome(send: Future[None]) -> None:
    """The send's result. Cancelled (uvicorn's shutdown), a send not started yet is dropped
    (ShutDownFirst), and one under way is waited for: its SMTP timeout bounds it, and its
    outcome is what gets logged and traced. The cancellation ends here: this task's only work
    left is to finish its request, which is what shutting down asks of it."""
    try:
        await asyncio.shield(asyncio.wrap_future(send))
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        if send.cancel():
            raise ShutDownFirst("the service stopped before it was sent") from None
        await asyncio.wrap_future(send)
