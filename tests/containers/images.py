"""The project's images, built from docker/ unchanged under one test run's tag."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.deploy.dockerfiles import IMAGES, Image

from .engine import SLOW_SECONDS, docker, inspect

# Each image's latest build in these tests, kept for the next run's build cache.
CACHE_TAG = "containers-test-cache"


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


def keep_as_cache(tag: str) -> None:
    """Move each image's CACHE_TAG to this run's build, then drop the run's tag.

    Untagging a build would delete its layers, and the next run would rebuild them (and
    deleting them is slow too); kept under one tag per image, an unchanged build is reused
    whole. The previous build is deleted only once nothing else names it."""
    for image in IMAGES.values():
        built = inspect("image", f"{image.repository}:{tag}")
        if built is None:
            continue
        previous = inspect("image", f"{image.repository}:{CACHE_TAG}")
        docker("tag", f"{image.repository}:{tag}", f"{image.repository}:{CACHE_TAG}")
        docker("rmi", f"{image.repository}:{tag}")  # only the name: the cache tag holds it
        if previous is not None and previous["Id"] != built["Id"]:
            now = inspect("image", previous["Id"])
            if now is not None and not now.get("RepoTags"):
                docker("rmi", previous["Id"], check=False)  # refused while a container uses it
