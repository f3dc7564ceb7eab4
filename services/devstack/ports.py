"""Free loopback ports, so parallel stacks never collide."""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

# The kernel may hand the same free port to two binds in a row once the first socket is closed,
# and a port handed out here is not taken until the process it is meant for starts. So the ports
# handed out lately are remembered and never handed out again: two ports asked for one daemon
# (its API and its OTLP intake, say) always differ.
_HANDED_OUT: deque[int] = deque(maxlen=512)
_ATTEMPTS = 64


def _free_port(kind: socket.SocketKind) -> int:
    for _ in range(_ATTEMPTS):
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.append(port)
            return port
    raise RuntimeError(f"no loopback port free that was not handed out lately ({_ATTEMPTS} tries)")


def free_tcp_port() -> int:
    return _free_port(socket.SOCK_STREAM)


def free_udp_port() -> int:
    return _free_port(socket.SOCK_DGRAM)


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port this process holds without listening on it: connections are refused,
    and no other process can take the port while the block runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that takes connections (the kernel completes them into the backlog)
    and never answers on them: what a hung server looks like to a client."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])
