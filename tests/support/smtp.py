"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.polling import poll_until
from devstack.ports import free_tcp_port


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    recipients: tuple[str, ...]
    message: Message
    used_tls: bool


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        mail = ReceivedMail(
            mail_from=str(envelope.mail_from),
            recipients=tuple(envelope.rcpt_tos),
            message=message_from_bytes(content),
            used_tls=session.ssl is not None,
        )
        with self.lock:
            self.mails.append(mail)
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<free port>; with `tls_context` it offers STARTTLS."""

    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.port = free_tcp_port()
        self._inbox = _Inbox()
        kwargs: dict[str, Any] = {}
        if tls_context is not None:
            kwargs = {"tls_context": tls_context, "require_starttls": True}
        self._controller = Controller(self._inbox, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    @property
    def mails(self) -> list[ReceivedMail]:
        with self._inbox.lock:
            return list(self._inbox.mails)

    def wait_for_mail_to(self, address: str, timeout: float = 10.0) -> ReceivedMail:
        def probe() -> ReceivedMail | None:
            return next((m for m in self.mails if address in m.recipients), None)

        return poll_until(probe, f"an email to {address}", timeout=timeout)

    def stop(self) -> None:
        self._controller.stop()
