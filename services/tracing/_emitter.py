"""Send segment documents to the X-Ray daemon over UDP without ever slowing a request.

The SDK's `UDPEmitter` hands the daemon's host name to `sendto`, which resolves it again for
every segment: on Kubernetes that is a DNS query, on the event loop, per request. Here a host
name is resolved once when tracing starts and refreshed by a background thread; sending uses
the last good address, never resolves, never blocks (the socket is non-blocking) and never
raises. Until a name resolves, documents are dropped and counted, and the drop is logged.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from ._documents import to_datagrams
from .config import DaemonAddress, Endpoint

log = logging.getLogger(__name__)

DNS_REFRESH_SECONDS = 30.0
# How long start() waits for the first resolution before letting the service start anyway.
FIRST_RESOLUTION_WAIT_SECONDS = 1.0


@dataclass
class EmitterStats:
    datagrams_sent: int = 0
    dropped_unresolved: int = 0
    send_errors: int = 0
    resolutions: int = 0


class DaemonEmitter:
    """The recorder's emitter: `send_entity` and `set_daemon_address` are what it calls."""

    def __init__(self, endpoint: Endpoint, *, refresh_seconds: float = DNS_REFRESH_SECONDS) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._refresh_seconds = refresh_seconds
        self._stopping = threading.Event()
        self._first_attempt_done = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_problem: str | None = None
        self.stats = EmitterStats()
        self._use(endpoint)

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint

    @property
    def target(self) -> tuple[str, int] | None:
        """The address datagrams go to now: always an IP, or None while unresolved."""
        return self._target

    def _use(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._target: tuple[str, int] | None = None
        if endpoint.is_ip:
            self._target = (endpoint.host, endpoint.port)

    def start(self) -> None:
        """Resolve a host name (waiting briefly for the first answer) and keep it fresh."""
        if self._endpoint.is_ip or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._refresh_forever, name="xray-dns", daemon=True)
        self._thread.start()
        self._first_attempt_done.wait(FIRST_RESOLUTION_WAIT_SECONDS)
        if self._target is None:
            log.warning(
                "X-Ray daemon host %s is not resolved yet; segments are dropped until it is",
                self._endpoint.host,
            )

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._socket.close()

    def set_daemon_address(self, address: str | None) -> None:
        if address:
            self._use(DaemonAddress.parse(address).udp)

    def send_entity(self, entity: Any) -> None:
        try:
            datagrams = to_datagrams(entity.to_dict())
        except Exception:
            log.exception("could not serialise %s %s", type(entity).__name__, entity.id)
            return
        finally:
            release_subsegments(entity)
        for datagram in datagrams:
            self._send(datagram)

    def _send(self, datagram: bytes) -> None:
        target = self._target
        if target is None:
            self.stats.dropped_unresolved += 1
            self._report(
                f"X-Ray daemon host {self._endpoint.host} is unresolved; dropping segments"
            )
            return
        try:
            self._socket.sendto(datagram, target)
        except OSError as exc:  # buffer full, network down: tracing must not fail the request
            self.stats.send_errors += 1
            self._report(
                f"cannot send segments to the X-Ray daemon at {target[0]}:{target[1]}: {exc}"
            )
        else:
            self.stats.datagrams_sent += 1
            if self._last_problem is not None:
                log.info("sending segments to the X-Ray daemon at %s:%s again", *target)
                self._last_problem = None

    def _report(self, problem: str) -> None:
        """Log a problem once when it starts, not once per segment."""
        if problem != self._last_problem:
            self._last_problem = problem
            log.warning(problem)

    def _refresh_forever(self) -> None:
        while True:
            self._resolve()
            self._first_attempt_done.set()
            if self._stopping.wait(self._refresh_seconds):
                return

    def _resolve(self) -> None:
        endpoint = self._endpoint
        if endpoint.is_ip:
            return
        try:
            infos = socket.getaddrinfo(
                endpoint.host, endpoint.port, socket.AF_INET, socket.SOCK_DGRAM
            )
        except OSError as exc:
            # Keep the last good address: a DNS hiccup should not stop tracing.
            self._report(f"cannot resolve X-Ray daemon host {endpoint.host}: {exc}")
            return
        finally:
            self.stats.resolutions += 1
        address = infos[0][4]
        target = (str(address[0]), int(address[1]))
        if target != self._target:
            log.info("X-Ray daemon %s resolved to %s:%s", endpoint, *target)
        self._target = target


def release_subsegments(entity: Any) -> None:
    """Let reference counting free a sent entity's subsegments as soon as it is dropped.

    Each subsegment points back to its segment, which lists it: a reference cycle per traced
    request, left to the cyclic garbage collector. Under load, user management's collector ran
    70% more often than untraced (87 against 51 young collections per 1,000 requests), its full
    collections (60-90 ms pauses on a service's heap) twice as often. A sent entity is complete
    and never serialised again (`to_dict`, which needs the link, has run), so nothing needs it.
    """
    for subsegment in getattr(entity, "subsegments", ()):
        subsegment.parent_segment = None
        release_subsegments(subsegment)
