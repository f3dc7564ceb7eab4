"""The Docker engine the container tests use: the CLI, and what it says about images and
containers. A missing engine fails the test saying how to get one, never skips it."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HOW_TO_GET = (
    "run `make prerequisites` (as root it installs docker.io, docker-compose and mmdebstrap "
    "and starts dockerd), or start your own Docker engine"
)
# Every image, container, network and volume a run creates carries this label value (or the
# run's name), so two runs on one engine never touch each other's things.
RUN_LABEL = "org.xray-fastapi.test-run"
# An image build or a root filesystem import is slow; everything else answers in seconds.
SLOW_SECONDS = 900
QUICK_SECONDS = 120
# A test that starts the session's builds waits for all of them: stand-ins, then images.
SESSION_SETUP_SECONDS = 2 * SLOW_SECONDS


class DockerError(RuntimeError):
    pass


def run_name() -> str:
    """A fresh name for one test run: lower case, as compose project names must be."""
    return f"xfct{secrets.token_hex(4)}"


def docker_binary() -> str:
    found = shutil.which("docker")
    if found is None:
        pytest.fail(f"the docker CLI is not installed: {HOW_TO_GET}", pytrace=False)
    return found


def docker(
    *args: str | Path, timeout: float = QUICK_SECONDS, check: bool = True, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """Run `docker ARGS` to completion; with `check`, a failure raises with its output."""
    command = [docker_binary(), *map(str, args)]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        shown = " ".join(command[1:])
        raise DockerError(f"docker {shown} exited {result.returncode}:\n{result.stderr}")
    return result


def require_engine() -> dict[str, Any]:
    """The engine's `docker info`, or the test fails saying how to start one."""
    result = docker("info", "--format", "{{json .}}", check=False, timeout=30)
    info: dict[str, Any] = json.loads(result.stdout) if result.returncode == 0 else {}
    if not info.get("ServerVersion"):
        pytest.fail(f"no Docker engine answers: {HOW_TO_GET}\n{result.stderr}", pytrace=False)
    return info


def inspect(kind: str, name: str) -> dict[str, Any] | None:
    """`docker KIND inspect NAME`, or None if there is no such thing."""
    result = docker(kind, "inspect", name, check=False)
    if result.returncode != 0:
        return None
    [found] = json.loads(result.stdout)
    details: dict[str, Any] = found
    return details


def image_labels(reference: str) -> dict[str, str] | None:
    """The labels of a local image, or None if the engine has no such tag."""
    image = inspect("image", reference)
    if image is None:
        return None
    labels: dict[str, str] = (image.get("Config") or {}).get("Labels") or {}
    return labels


def image_size(reference: str) -> int:
    image = inspect("image", reference)
    assert image is not None, f"no image {reference}"
    return int(image["Size"])


def health(container: str) -> str:
    """The container's health status, or why it has none: starting, healthy, unhealthy, ..."""
    details = inspect("container", container)
    if details is None:
        return "gone"
    state = details["State"]
    if state["Status"] != "running":
        return f"{state['Status']} (exit code {state['ExitCode']})"
    return str((state.get("Health") or {}).get("Status", "no healthcheck"))


def logs(container: str) -> str:
    result = docker("logs", "--tail", "60", container, check=False)
    return result.stdout + result.stderr


def labelled(kind: str, label: str) -> list[str]:
    """Names of the containers, networks or volumes carrying a label (`key=value`)."""
    if kind == "container":
        found = docker("ps", "--all", "--filter", f"label={label}", "--format", "{{.Names}}")
    else:
        found = docker(kind, "ls", "--filter", f"label={label}", "--format", "{{.Name}}")
    return found.stdout.split()
