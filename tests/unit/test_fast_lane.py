"""The fast lane's guard (tests/support/fast_lane.py) refuses what it promises to refuse."""

from __future__ import annotations

import socket

import pytest

from devstack.ports import free_tcp_port
from tests.support.fast_lane import FastLaneViolation, _Guard


def watching() -> _Guard:
    guard = _Guard()
    guard.active = True
    return guard


def test_starting_a_process_is_refused() -> None:
    guard = watching()
    with pytest.raises(FastLaneViolation):
        guard("subprocess.Popen", ("mysqld", ["mysqld"], None, None))
    assert guard.violations == ["starting a process (subprocess.Popen: 'mysqld')"]


def test_tcp_goes_only_to_servers_of_this_process() -> None:
    guard = watching()
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        guard("socket.bind", (server, ("127.0.0.1", 0)))
        guard("socket.connect", (client, server.getsockname()))  # allowed
        for address in (("127.0.0.1", free_tcp_port()), ("127.0.0.1", 3306), ("192.0.2.1", 80)):
            with pytest.raises(FastLaneViolation):
                guard("socket.connect", (client, address))
    assert len(guard.violations) == 3


def test_datagrams_stay_on_loopback() -> None:
    guard = watching()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        guard("socket.sendto", (sock, ("127.0.0.1", 2000)))
        with pytest.raises(FastLaneViolation):
            guard("socket.sendto", (sock, ("198.51.100.7", 2000)))


def test_names_are_not_looked_up_beyond_this_host() -> None:
    guard = watching()
    guard("socket.getaddrinfo", ("localhost", 80, 0, 0, 0))
    guard("socket.getaddrinfo", ("127.0.0.1", 80, 0, 0, 0))
    guard("socket.gethostbyname", (socket.gethostname(),))
    with pytest.raises(socket.gaierror):
        guard("socket.getaddrinfo", ("mysql.example.com", 3306, 0, 0, 0))
