"""docker-compose.yml as docker-compose itself resolves it."""

from __future__ import annotations

import os
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


def resolve(*profiles: str) -> dict[str, Any]:
    """`docker-compose [--profile P] config`, parsed; a rejection fails with its message."""
    command = [tool("docker-compose")]
    for profile in profiles:
        command += ["--profile", profile]
    command.append("config")
    env = {key: os.environ[key] for key in ENV_KEPT if key in os.environ}
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
