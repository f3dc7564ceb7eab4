"""A connection-level TCP balancer on loopback, as kube-proxy or Docker's DNS round robin are:
each new connection goes to a backend picked at random, and every request sent on that
connection reaches the same backend."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence

from .tcp_proxy import TcpProxy


class TcpBalancer(TcpProxy):
    """Relays 127.0.0.1:<port> to one of `backends` per connection, chosen uniformly at
    random (kube-proxy's iptables mode) from a seeded generator, so a run is repeatable."""

    def __init__(self, backends: Sequence[tuple[str, int]], *, seed: int = 0) -> None:
        self._pick_lock = threading.Lock()
        self._random = random.Random(seed)
        self.set_backends(backends)
        super().__init__(self._backends[0])

    def set_backends(self, backends: Sequence[tuple[str, int]]) -> None:
        """Replace the backends (as a Deployment's replicas changing) and reset the counts."""
        if not backends:
            raise ValueError("a balancer needs at least one backend")
        with self._pick_lock:
            self._backends = list(backends)
            self.connections: Counter[tuple[str, int]] = Counter()

    def _pick_upstream(self) -> tuple[str, int]:
        with self._pick_lock:
            backend = self._random.choice(self._backends)
            self.connections[backend] += 1
        return backend
