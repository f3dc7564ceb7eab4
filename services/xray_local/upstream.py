"""Relay every datagram, verbatim, to a real X-Ray daemon (`--upstream host:port`).

The same run then shows up here and in the AWS console. The upstream's name is resolved off
the hot path and refreshed (a daemon Service's address can change); sending never blocks and
never raises: a relay problem is counted and logged once, not per datagram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0


@dataclass
class RelayCounters:
    relayed: int = 0
    unresolved: int = 0
    send_errors: int = 0


class Upstream:
    def __init__(self, host: str, port: int, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.host = host
        self.port = port
        self.counters = RelayCounters()
        self._refresh_seconds = refresh_seconds
        self._target: tuple[str, int] | None = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._task: asyncio.Task[None] | None = None
        self._problem: str | None = None

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        await self._resolve()
        self._task = asyncio.create_task(self._refresh_forever(), name="upstream-dns")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sock.close()

    def relay(self, datagram: bytes) -> None:
        target = self._target
        if target is None:
            self.counters.unresolved += 1
            self._report(f"upstream daemon {self} is not resolved; not relaying")
            return
        try:
            self._sock.sendto(datagram, target)
        except OSError as exc:
            self.counters.send_errors += 1
            self._report(f"cannot relay to the upstream daemon {self}: {exc}")
        else:
            self.counters.relayed += 1
            if self._problem is not None:
                self._problem = None
                log.info("relaying to the upstream daemon %s again", self)

    def _report(self, problem: str) -> None:
        if problem != self._problem:
            self._problem = problem
            log.warning(problem)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            await self._resolve()

    async def _resolve(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                self.host, self.port, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
        except OSError as exc:
            # Keep the last good address: a DNS hiccup should not stop the relay.
            self._report(f"cannot resolve the upstream daemon {self}: {exc}")
            return
        address = infos[0][4]
        target = (str(address[0]), int(address[1]))
        if target != self._target:
            log.info("relaying every datagram to the upstream daemon %s (%s:%s)", self, *target)
        self._target = target
