"""Fixtures shared by every test folder; helpers live in tests/support."""

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _close_the_sdks_global_socket() -> Iterator[None]:
    """Importing aws_xray_sdk builds a global recorder with a UDP socket the project never
    uses (it has its own Tracer); close it so the run ends without a ResourceWarning."""
    yield
    sdk = sys.modules.get("aws_xray_sdk.core")
    if sdk is not None:
        sdk.xray_recorder.emitter._socket.close()
