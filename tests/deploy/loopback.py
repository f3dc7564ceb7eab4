"""Run what an image runs as a local process: the Dockerfile's command and ENV overlaid by the
compose service's command and environment, with the names compose's network provides replaced
by the loopback addresses of the stand-ins a test starts. Everything else passes unchanged.

The process also gets an import guard: it can import only what its image installs (its
extra's dependencies), so a service that needs another service's packages fails here as it
would in its container.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import distribution, packages_distributions
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .composefile import environment
from .dockerfiles import IMAGES, image_env, last, stages
from .kube import image_repository

PROJECT = "xray-fastapi-microservices"
# Installed in every image's virtualenv by `python -m venv`, whatever the extra.
VENV_BOOTSTRAP = {"pip", "setuptools"}
# Variables holding a host name, and the one holding its port.
HOST_AND_PORT = {
    "DB_HOSTNAME": "DB_PORT",
    "NOTIFICATION_SERVICE_HOST": "NOTIFICATION_SERVICE_PORT",
    "AWS_MAIL_SERVER_HOST": "AWS_MAIL_SERVER_PORT",
}
HOST_PORT_VARIABLES = ("AWS_XRAY_DAEMON_ADDRESS",)
# The images' PATH points into their own virtualenv; here the test's interpreter stands in.
IMAGE_ONLY = ("PATH",)
# The linux/arm64 image resolves dependencies for its own machine: check both.
IMAGE_MACHINES = ("x86_64", "aarch64")


@dataclass(frozen=True)
class StandIn:
    """What answers, on loopback, for a name on compose's network."""

    host: str
    port: int
    # Variables whose value must change with it (the test server's own credentials).
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Launch:
    args: list[str]
    env: dict[str, str]
    rewritten: set[str]  # the variables whose compose value was replaced


def launch(service: dict[str, Any], stand_ins: Mapping[str, StandIn], port: int | None) -> Launch:
    image = IMAGES[image_repository(service["image"])]
    final = stages(image.dockerfile)[-1]
    args = list(service.get("command") or last(final, "CMD").exec_form())
    if args[0] == "python":
        args[0] = sys.executable
    mounts = dict(_mount(volume) for volume in service.get("volumes", []))
    args = [mounts.get(arg, _rewrite_address(arg, stand_ins)) for arg in args]

    env = {k: v for k, v in image_env(image).items() if k not in IMAGE_ONLY}
    env.update({k: v for k, v in environment(service).items() if v is not None})
    compose_env = dict(env)
    for host_variable, port_variable in HOST_AND_PORT.items():
        if host_variable in env:
            stand_in = stand_ins[env[host_variable]]
            env[host_variable], env[port_variable] = stand_in.host, str(stand_in.port)
            env.update(stand_in.env)
    for variable in HOST_PORT_VARIABLES:
        if variable in env:
            env[variable] = _rewrite_address(env[variable], stand_ins)
    if port is not None:
        # Containers listen on every interface; tests keep to loopback.
        env["HOST"], env["PORT"] = "127.0.0.1", str(port)
    rewritten = {k for k in env if compose_env.get(k) != env[k]}
    return Launch(args, env, rewritten)


def _mount(volume: str) -> tuple[str, str]:
    source, target = volume.split(":")[:2]
    return target, source


def _rewrite_address(text: str, stand_ins: Mapping[str, StandIn]) -> str:
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and host in stand_ins:
        return f"{stand_ins[host].host}:{stand_ins[host].port}"
    return text


def runtime_closure(extra: str) -> set[str]:
    """Distributions an image with `extra` installs, from the installed packages' metadata."""
    found: set[str] = set()
    pending: list[tuple[str, set[str]]] = [(PROJECT, {extra})]
    while pending:
        name, extras = pending.pop()
        for text in distribution(name).requires or []:
            requirement = Requirement(text)
            wanted = any(
                requirement.marker is None
                or requirement.marker.evaluate({"extra": e, "platform_machine": machine})
                for e in extras or {""}
                for machine in IMAGE_MACHINES
            )
            key = canonicalize_name(requirement.name)
            if wanted and key not in found:
                found.add(key)
                pending.append((requirement.name, set(requirement.extras)))
    return found


def import_guard(extra: str, directory: Path) -> dict[str, str]:
    """Write a sitecustomize that refuses modules the image lacks; the env to load it."""
    allowed = runtime_closure(extra) | VENV_BOOTSTRAP | {PROJECT}
    foreign = sorted(
        module
        for module, owners in packages_distributions().items()
        if not any(canonicalize_name(owner) in allowed for owner in owners)
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        "import importlib.abc, sys\n"
        f"FOREIGN = frozenset({foreign!r})\n"
        "class NotInTheImage(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in FOREIGN:\n"
        f"            message = f'{{name}} is not in the {extra} image'\n"
        "            raise ModuleNotFoundError(message, name=name)\n"
        "sys.meta_path.insert(0, NotInTheImage())\n"
    )
    return {"PYTHONPATH": str(directory)}
