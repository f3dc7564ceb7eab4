"""The project's images, built from docker/ unchanged under one test run's tag."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.deploy.dockerfiles import IMAGES, Image

from .engine import SLOW_SECONDS, docker


@dataclass(frozen=True)
class Built:
    image: Image
    reference: str  # repository:tag
    seconds: float  # how long its build took

    @property
    def name(self) -> str:
        return self.image.repository.rsplit("/", 1)[1]


def build_all(tag: str, index_url: str) -> dict[str, Built]:
    """Every image of tests/deploy's table, one after the other (V2 reuses V1's layers).

    With the host's network, so the build steps reach the wheelhouse on loopback; the
    index's URL is the only build argument the images do not have by default."""
    built: dict[str, Built] = {}
    for image in IMAGES.values():
        reference = f"{image.repository}:{tag}"
        args = ["--build-arg", f"PIP_INDEX_URL={index_url}"]
        for name, value in image.build_args.items():
            args += ["--build-arg", f"{name}={value}"]
        started = time.monotonic()
        docker(
            "build",
            "--network",
            "host",
            "--file",
            image.dockerfile,
            "--tag",
            reference,
            *args,
            ".",
            timeout=SLOW_SECONDS,
        )
        built[image.repository] = Built(image, reference, time.monotonic() - started)
    return built


def remove(tag: str) -> None:
    """Remove this run's tags of the images (those that were built)."""
    references = [f"{image.repository}:{tag}" for image in IMAGES.values()]
    docker("rmi", *references, check=False)
