"""Fixtures: the engine, the public base images (real or stand-in), the wheelhouse and this
run's images, each made once per session. The sizes and build times of the images are
printed after the test results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from . import images, standins, summary, wheelhouse
from .engine import image_size, require_engine, run_name
from .images import Built

# The engine's CPU as `docker info` names it, as manylinux wheels name it.
ARCHITECTURES = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if summary.lines(config):
        terminalreporter.section("containers")
        for line in summary.lines(config):
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def engine() -> dict[str, Any]:
    return require_engine()


@pytest.fixture(scope="session")
def run() -> str:
    """This run's name: the tag of its images and the name of its compose project."""
    return run_name()


@pytest.fixture(scope="session")
def base_images(engine: dict[str, Any], pytestconfig: pytest.Config) -> None:
    """The three public images under their pinned tags: real ones if present, else stand-ins."""
    standins.ensure(list(standins.STANDINS.values()))
    for tag in standins.STANDINS:
        kind = "stand-in" if standins.is_standin(tag) else "real image"
        summary.note(pytestconfig, f"{tag:45} {image_size(tag) / 1e6:5.0f} MB  {kind}")


@pytest.fixture(scope="session")
def built(
    engine: dict[str, Any], base_images: None, run: str, pytestconfig: pytest.Config
) -> Iterator[dict[str, Built]]:
    """Every project image, built from docker/ under this run's tag; at the end the tag goes
    and the build stays as the next run's cache (images.CACHE_TAG)."""
    folder = wheelhouse.download(ARCHITECTURES[str(engine["Architecture"])])
    try:
        with wheelhouse.serve(folder) as index_url:
            result = images.build_all(run, index_url)
        for b in result.values():
            size = image_size(b.reference) / 1e6
            summary.note(
                pytestconfig, f"{b.reference:45} {size:5.0f} MB  built in {b.seconds:.0f} s"
            )
        yield result
    finally:
        images.keep_as_cache(run)
