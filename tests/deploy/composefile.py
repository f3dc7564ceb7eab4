"""docker-compose.yml as docker-compose itself resolves it."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

import pytest
import yaml

from .tools import REPO, tool

COMPOSE_FILE = REPO / "docker-compose.yml"
# docker-compose fills ${VAR} from the caller's environment: pass none of the developer's,
# so the result is what a fresh shell gets.
ENV_KEPT = ("PATH", "HOME", "LANG")

Service = dict[str, Any]
# A published port as the file writes it: loopback, the host port from a variable whose
# default is today's port, then the container's port.
PUBLISHED = re.compile(
    r"^127\.0\.0\.1:\$\{(?P<variable>\w+_PORT):-(?P<default>\d+)\}:\d+(/(tcp|udp))?$"
)


def resolve(*profiles: str, variables: dict[str, str] | None = None) -> dict[str, Any]:
    """`docker-compose [--profile P] config`, parsed, with `variables` in the environment it
    fills ${VAR} from; a rejection fails with its message."""
    command = [tool("docker-compose")]
    for profile in profiles:
        command += ["--profile", profile]
    command.append("config")
    env = {key: os.environ[key] for key in ENV_KEPT if key in os.environ}
    env.update(variables or {})
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        shown = " ".join(command[1:])
        pytest.fail(f"docker-compose {shown} rejects {COMPOSE_FILE}:\n{result.stderr}", False)
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def environment(service: Service) -> dict[str, str | None]:
    """None marks a variable passed through from the caller's shell."""
    env = service.get("environment") or {}
    return {key: None if value is None else str(value) for key, value in env.items()}


def built_from_here(config: dict[str, Any]) -> dict[str, Service]:
    return {name: svc for name, svc in config["services"].items() if "build" in svc}


def published_ports() -> dict[str, list[str]]:
    """Each service's `ports:` entries as written in the file, before any variable is filled."""
    raw: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return {name: list(svc.get("ports", [])) for name, svc in raw["services"].items()}


def port_variables() -> dict[str, int]:
    """The variables that move published ports, with their defaults."""
    found: dict[str, int] = {}
    for entries in published_ports().values():
        for entry in entries:
            match = PUBLISHED.match(str(entry))
            if match:
                found[match["variable"]] = int(match["default"])
    return found
