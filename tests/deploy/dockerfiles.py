"""The project's images: which Dockerfile builds what, and reading a Dockerfile's instructions."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .tools import REPO

DOCKER = REPO / "docker"


@dataclass(frozen=True)
class Image:
    repository: str  # as in docker-compose.yml and k8s/
    dockerfile: Path
    extra: str  # the pyproject extra it installs
    build_args: dict[str, str] = field(default_factory=dict)


IMAGES = {
    image.repository: image
    for image in (
        Image("xray-fastapi/usermgmt", DOCKER / "usermgmt.Dockerfile", "usermgmt"),
        Image(
            "xray-fastapi/notification-v1",
            DOCKER / "notification.Dockerfile",
            "notification",
            {"APP_VERSION": "V1"},
        ),
        Image(
            "xray-fastapi/notification-v2",
            DOCKER / "notification.Dockerfile",
            "notification",
            {"APP_VERSION": "V2"},
        ),
        Image("xray-fastapi/xray-local", DOCKER / "xray-local.Dockerfile", "xray-local"),
    )
}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD, else ValueError."""
        text = self.arguments
        if self.keyword == "HEALTHCHECK":
            text = text[text.index("CMD") + 3 :] if "CMD" in text else ""
        value = json.loads(text)
        if not (isinstance(value, list) and all(isinstance(part, str) for part in value)):
            raise ValueError(f"{self.keyword} {self.arguments!r} is not an exec-form array")
        return value


def instructions(dockerfile: Path) -> list[Instruction]:
    """Instructions in order, continuation lines joined, comments dropped."""
    result: list[Instruction] = []
    parts: list[str] = []
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker allows comments between continuation lines too
        parts.append(stripped.removesuffix("\\").strip())
        if not stripped.endswith("\\"):
            keyword, _, arguments = " ".join(parts).partition(" ")
            result.append(Instruction(keyword.upper(), arguments.strip()))
            parts = []
    return result


def stages(dockerfile: Path) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM."""
    found: list[list[Instruction]] = []
    for instruction in instructions(dockerfile):
        if instruction.keyword == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def last(stage: list[Instruction], keyword: str) -> Instruction:
    matching = [i for i in stage if i.keyword == keyword]
    if not matching:
        raise AssertionError(f"no {keyword} in the final stage")
    return matching[-1]


def image_env(image: Image) -> dict[str, str]:
    """The ENV the final stage sets, with its ARGs (defaults, then the image's build args)."""
    args: dict[str, str] = {}
    env: dict[str, str] = {}
    for instruction in stages(image.dockerfile)[-1]:
        if instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            args[name] = image.build_args.get(name, default)
        elif instruction.keyword == "ENV":
            for pair in shlex.split(instruction.arguments):
                name, _, value = pair.partition("=")
                env[name] = _substitute(value, {**args, **env})
    return env


def _substitute(value: str, known: dict[str, str]) -> str:
    def lookup(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        # $PATH and the like stay for the shell of the running container to expand.
        return known.get(name, match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lookup, value)
