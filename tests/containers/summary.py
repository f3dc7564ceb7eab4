"""What the container tests measured, printed after the test results (pytest_terminal_summary
in conftest.py): image sizes, build times, the V1/V2 split."""

from __future__ import annotations

import pytest

LINES = pytest.StashKey[list[str]]()


def note(config: pytest.Config, line: str) -> None:
    config.stash.setdefault(LINES, []).append(line)


def lines(config: pytest.Config) -> list[str]:
    return config.stash.get(LINES, [])
