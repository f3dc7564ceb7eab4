"""Helpers the tests import: real processes, sockets and servers on loopback."""
