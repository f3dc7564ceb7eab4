"""The packages the image builds install, downloaded once on this machine and served over
loopback as a package index, so `docker build --network host --build-arg PIP_INDEX_URL=...`
works where the build's own steps reach no index.

Downloaded for the images' interpreter and platform (CPython 3.11, manylinux, the engine's
architecture), not this machine's: every pin of docker/constraints.txt plus the build backend
pyproject.toml asks for. Kept in ~/.cache/xray-fastapi, one folder per set of inputs.
"""

from __future__ import annotations

import fcntl
import hashlib
import html
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_wheel_filename

from .engine import REPO, SLOW_SECONDS
from .standins import CACHE

CONSTRAINTS = REPO / "docker" / "constraints.txt"
PYTHON_VERSION = "3.11"  # the base image's
# glibc 2.36 is bookworm's: the images take any manylinux wheel up to it.
GLIBC_MINORS = range(17, 37)
ABIS = ("cp311", "abi3", "none")
# The index is served on a port derived from the wheelhouse, so its URL (a build argument,
# part of each build step's cache key) is the same from run to run and the layers that
# install the dependencies are reused. Taken by another run: any free port, cache missed.
STABLE_PORTS = (20000, 30000)


def build_requirements() -> list[str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    requires: list[str] = pyproject["build-system"]["requires"]
    return requires


def download(architecture: str) -> Path:
    """The wheelhouse for images of `architecture` (x86_64, aarch64), downloaded if missing."""
    key = hashlib.sha256(
        "\n".join(
            [CONSTRAINTS.read_text(), *build_requirements(), architecture, PYTHON_VERSION]
        ).encode()
    ).hexdigest()[:16]
    folder = CACHE / f"wheelhouse-{key}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "wheelhouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not folder.is_dir():
            scratch = Path(tempfile.mkdtemp(dir=CACHE, prefix="partial-wheelhouse-"))
            try:
                _pip_download(scratch / "files", architecture)
                _write_index(scratch / "files", scratch / "simple")
                scratch.rename(folder)  # complete, or not there at all
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    return folder


def _pip_download(destination: Path, architecture: str) -> None:
    platforms = [f"manylinux_2_{minor}_{architecture}" for minor in GLIBC_MINORS]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--dest",
        str(destination),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        *(arg for abi in ABIS for arg in ("--abi", abi)),
        *(arg for platform in platforms for arg in ("--platform", platform)),
        "--constraint",
        str(CONSTRAINTS),
        "--requirement",
        str(CONSTRAINTS),
        *build_requirements(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=SLOW_SECONDS)
    if result.returncode != 0:
        raise RuntimeError(f"pip download for the images failed:\n{result.stderr[-3000:]}")


def _write_index(files: Path, simple: Path) -> None:
    """A PEP 503 simple index over the downloaded files: /simple/<project>/ links to each."""
    projects: dict[str, list[Path]] = {}
    for wheel in sorted(files.glob("*.whl")):
        projects.setdefault(canonicalize_name(parse_wheel_filename(wheel.name)[0]), []).append(
            wheel
        )
    for project, wheels in projects.items():
        links = "".join(
            f'<a href="../../files/{html.escape(w.name)}#sha256={_sha256(w)}">'
            f"{html.escape(w.name)}</a>\n"
            for w in wheels
        )
        (simple / project).mkdir(parents=True)
        (simple / project / "index.html").write_text(f"<!doctype html>\n{links}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """pip asks for every project; the build's own output says what it installed."""


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve the wheelhouse on 127.0.0.1; yields the index URL for PIP_INDEX_URL."""
    handler = partial(_QuietHandler, directory=str(folder))
    low, high = STABLE_PORTS
    stable = low + int(folder.name.rsplit("-", 1)[1], 16) % (high - low)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", stable), handler)
    except OSError:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="wheelhouse", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
