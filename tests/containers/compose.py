"""The repository's docker-compose.yml, run as one test run's own compose project.

The project name, the images' tag and every published port come from the environment the
compose file reads, so runs on one engine never share a container, network, volume or port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack import free_tcp_port
from tests.deploy.composefile import port_variables

from .engine import (
    HOW_TO_GET,
    QUICK_SECONDS,
    SLOW_SECONDS,
    docker,
    docker_binary,
    inspect,
    labelled,
)

COMPOSE_FILE = "docker-compose.yml"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
# What compose needs from the caller's environment to reach the engine; nothing else of the
# developer's shell (a DB_PASSWORD there would change the stack).
INHERITED = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT")


def command() -> list[str]:
    """Compose v2 (`docker compose`) where the plugin is installed, else Debian's v1."""
    if docker("compose", "version", check=False).returncode == 0:
        return [docker_binary(), "compose"]
    v1 = shutil.which("docker-compose")
    if v1 is None:
        pytest.fail(f"neither `docker compose` nor docker-compose is installed: {HOW_TO_GET}")
    return [v1]


@dataclass
class Stack:
    project: str
    repo: Path
    env_file: Path  # empty: a developer's .env beside the compose file is not read
    image_tag: str
    ports: dict[str, int]

    @classmethod
    def create(cls, project: str, repo: Path, scratch: Path, image_tag: str) -> Stack:
        env_file = scratch / "empty.env"
        env_file.write_text("")
        # Every port the file publishes moves (tests/deploy/test_compose.py holds it to that).
        ports = {name: free_tcp_port() for name in port_variables()}
        return cls(project, repo, env_file, image_tag, ports)

    def compose(
        self, *args: str, timeout: float = QUICK_SECONDS
    ) -> subprocess.CompletedProcess[str]:
        env = {key: os.environ[key] for key in INHERITED if key in os.environ}
        env["IMAGE_TAG"] = self.image_tag
        env.update({name: str(port) for name, port in self.ports.items()})
        full = [
            *command(),
            "--project-name",
            self.project,
            "--file",
            COMPOSE_FILE,
            "--env-file",
            str(self.env_file),
            *args,
        ]
        result = subprocess.run(
            full, cwd=self.repo, env=env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(full)} exited {result.returncode}:\n{result.stderr}")
        return result

    def up(self) -> None:
        """Start the default profile from this run's images; building is the tests' job."""
        self.compose("up", "--detach", "--no-build", timeout=SLOW_SECONDS)

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10")

    def url(self, variable: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[variable]}{path}"

    def containers(self) -> dict[str, list[dict[str, Any]]]:
        """This project's containers, inspected, by compose service."""
        found: dict[str, list[dict[str, Any]]] = {}
        for name in labelled("container", f"{PROJECT_LABEL}={self.project}"):
            details = inspect("container", name)
            if details is not None:
                service = details["Config"]["Labels"][SERVICE_LABEL]
                found.setdefault(service, []).append(details)
        return found

    def leftovers(self) -> dict[str, list[str]]:
        """Whatever of this project still exists on the engine, by kind."""
        label = f"{PROJECT_LABEL}={self.project}"
        return {kind: labelled(kind, label) for kind in ("container", "network", "volume")}
