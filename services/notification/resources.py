"""What the notification routes use, built once from the settings: one typed object."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from tracing import Tracer

from .faults import FaultInjector
from .mailer import Mailer
from .settings import Settings


class HostIdentity:
    """This host's name, and its address once `look_up` has run (it may need DNS)."""

    def __init__(self) -> None:
        self.name = socket.gethostname()
        self.ip = "unknown"

    def look_up(self) -> None:
        try:
            self.ip = socket.gethostbyname(self.name)
        except OSError:
            self.ip = "unknown"


@dataclass(frozen=True)
class Resources:
    settings: Settings
    tracer: Tracer
    mailer: Mailer
    host: HostIdentity
    # Only with FAULT_INJECTION_ENABLED=true.
    faults: FaultInjector | None

    @classmethod
    def create(cls, settings: Settings, tracer: Tracer) -> Resources:
        faults = (
            FaultInjector(settings.initial_faults()) if settings.fault_injection_enabled else None
        )
        return cls(settings, tracer, Mailer(settings, tracer), HostIdentity(), faults)
