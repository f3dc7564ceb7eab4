"""devstack's free ports: the ports asked for one stack never repeat, although the kernel may
hand the same free port to two binds in a row (a daemon given one port for its API and for its
OTLP intake refuses to start)."""

from __future__ import annotations

from devstack.ports import free_tcp_port, free_udp_port


def test_tcp_ports_asked_in_a_row_all_differ() -> None:
    # 300 draws from the ~28,000 ephemeral ports repeat one with a probability of about 0.8
    # when nothing remembers them; remembered, they never do.
    ports = [free_tcp_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)


def test_udp_and_tcp_ports_for_one_daemon_differ() -> None:
    ports = [port for _ in range(150) for port in (free_udp_port(), free_tcp_port())]
    assert len(set(ports)) == len(ports)
