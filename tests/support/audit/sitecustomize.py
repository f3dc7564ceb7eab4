"""Loaded into a service process (via PYTHONPATH) by tests that count name lookups.

It reports, on stderr, every `socket.getaddrinfo` for AUDIT_HOST and every `sendto` that
hands a host name (not an IP) to the kernel, which would make the C library resolve it.
Python's audit hooks see these calls without changing what the process does.
"""

import ipaddress
import os
import sys

_HOST = os.environ.get("AUDIT_HOST")


def _is_name(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host))
    except ValueError:
        return True
    return False


def _audit(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if event == "socket.getaddrinfo" and args[0] == _HOST:
        sys.stderr.write(f"AUDIT getaddrinfo {_HOST}\n")
    elif event == "socket.sendto" and isinstance(args[1], tuple) and _is_name(args[1][0]):
        sys.stderr.write(f"AUDIT sendto-by-name {args[1][0]}\n")


if _HOST:
    sys.addaudithook(_audit)
