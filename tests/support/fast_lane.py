"""The fast lane's guarantee, enforced: no subprocess, no database server, no network.

`make test-fast` loads this pytest plugin (`-p tests.support.fast_lane`). An audit hook
(PEP 578) watches the whole run and refuses:

- starting any process;
- a TCP connection to anything but a loopback port this process itself holds (the in-process
  SMTP, HTTP and refusing servers the tests start): so no MariaDB, no service process;
- UDP to anything but loopback;
- resolving any name but localhost and this host's own name: such a lookup fails as an
  unknown name would, without asking DNS (a test that needs it to succeed fails by itself).

A refused process or connection raises where it is attempted, and the test during which it
was attempted fails at teardown, even if the code under test swallowed the error. The session
ends by saying how long the lane took.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
import weakref
from typing import Any

import pytest

SPAWNING_EVENTS = ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.fork")
LOCAL_NAMES = {"localhost", socket.gethostname()}


class FastLaneViolation(PermissionError):
    pass


class _Guard:
    def __init__(self) -> None:
        self.active = False
        self.violations: list[str] = []
        self._bound: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()

    def held_ports(self) -> set[int]:
        ports = set()
        with self._lock:
            sockets = list(self._bound)
        for sock in sockets:
            try:
                ports.add(int(sock.getsockname()[1]))
            except (OSError, IndexError, TypeError):
                continue  # closed since
        return ports

    def refuse(self, what: str) -> None:
        self.violations.append(what)
        raise FastLaneViolation(f"the fast lane refuses {what}")

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event.startswith(SPAWNING_EVENTS):
            self.refuse(f"starting a process ({event}: {args[0]!r})")
        elif event == "socket.bind":
            with self._lock:
                self._bound.add(args[0])
        elif event == "socket.connect":
            self._check_connect(args[0], args[1])
        elif event == "socket.sendto":
            self._check_datagram(args[1])
        elif event in ("socket.getaddrinfo", "socket.gethostbyname"):
            self._check_lookup(args[0])

    def _check_connect(self, sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host, port = address[0], int(address[1])
        if sock.type == socket.SOCK_DGRAM:
            self._check_datagram(address)
        elif not (_is_loopback(host) and port in self.held_ports()):
            self.refuse(f"a TCP connection to {host}:{port}, not a server of this process")

    def _check_datagram(self, address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            self.refuse(f"a datagram to {address[0]}")

    def _check_lookup(self, host: Any) -> None:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or name in LOCAL_NAMES or _is_address(name):
            return
        raise socket.gaierror(socket.EAI_NONAME, f"the fast lane does not look up {name!r}")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return host == "localhost" or (_is_address(host) and ipaddress.ip_address(host).is_loopback)


GUARD = _Guard()
_started = 0.0


def pytest_configure(config: pytest.Config) -> None:
    global _started
    _started = time.monotonic()
    sys.addaudithook(GUARD)  # cannot be removed: it guards this run until the interpreter ends
    GUARD.active = True


def pytest_runtest_setup(item: pytest.Item) -> None:
    GUARD.violations.clear()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if GUARD.violations:
        found = "; ".join(dict.fromkeys(GUARD.violations))
        GUARD.violations.clear()
        raise FastLaneViolation(f"{item.nodeid} is not fast-lane material: it tried {found}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    took = time.monotonic() - _started
    terminalreporter.write_line(
        f"fast lane: {took:.1f} s, with no subprocess, no database server and no network",
        bold=True,
    )
