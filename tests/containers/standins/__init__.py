"""Local stand-ins for the three public images the project's Dockerfiles and compose file name.

The engine on a build machine may reach no image registry. The project's own images are built
from their Dockerfiles unchanged and the compose file runs unchanged, so the public images they
start from must exist under their exact tags. Each stand-in is a Debian bookworm root
filesystem that mmdebstrap makes from Debian's packages, imported under the public tag with
`docker import`. It is built only when that tag is absent from the engine (or holds an older
stand-in), and never pushed; a real image under the tag is used as it is.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..engine import SLOW_SECONDS, docker, image_labels, inspect

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xray-fastapi"
RECIPE_LABEL = "org.xray-fastapi.stand-in"
SUITE = "bookworm"  # the official images' Debian release
# minbase is Debian's essential set plus apt. merged-usr: bookworm's layout without the
# usrmerge package (and the Perl it pulls in). Documentation and translations are left out as
# the official slim images do; copyright files stay.
MMDEBSTRAP_OPTIONS = (
    "--variant=minbase",
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    "--dpkgopt=force-unsafe-io",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-include=/usr/share/locale/locale.alias",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
)
# What the official images set too.
STANDARD_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOW_TO_BUILD = (
    "building the stand-in images needs root and mmdebstrap (`make prerequisites` installs "
    "it); where a registry is reachable, `docker pull {tag}` gives the real image instead"
)


@dataclass(frozen=True)
class StandIn:
    tag: str  # the public image's tag, as the Dockerfiles and docker-compose.yml name it
    what: str
    packages: tuple[str, ...]
    uploads: tuple[tuple[str, str], ...] = ()  # (file beside this module, path in the image)
    commands: tuple[str, ...] = ()  # run in the finished root filesystem, before it is packed
    changes: tuple[str, ...] = ()  # the image configuration the public image has

    def recipe(self) -> str:
        """Everything that decides the image: a change rebuilds it."""
        parts = [SUITE, *MMDEBSTRAP_OPTIONS, *self.packages, *self.commands, *self.changes]
        for source, target in self.uploads:
            parts += [target, hashlib.sha256((HERE / source).read_bytes()).hexdigest()]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


PYTHON = StandIn(
    "python:3.11.15-slim-bookworm",
    "Debian bookworm's Python 3.11 with venv and pip",
    ("python3", "python3-venv", "python3-pip", "python-is-python3", "ca-certificates", "passwd"),
    changes=(f"ENV {STANDARD_PATH}", "ENV LANG=C.UTF-8", 'CMD ["python3"]'),
)
MYSQL = StandIn(
    "mysql:8.4.8",
    "Debian bookworm's MariaDB behind the mysql image's entrypoint",
    ("mariadb-server-core", "mariadb-client", "passwd"),
    uploads=(
        ("mysql/docker-entrypoint.sh", "/usr/local/bin/docker-entrypoint.sh"),
        ("mysql/standin.cnf", "/etc/mysql/conf.d/standin.cnf"),
    ),
    commands=(
        "chmod 755 /usr/local/bin/docker-entrypoint.sh",
        # The official image's mysql user and group ids.
        "groupadd --system --gid 999 mysql",
        "useradd --system --uid 999 --gid mysql --home-dir /var/lib/mysql "
        "--no-create-home --shell /usr/sbin/nologin mysql",
        # Empty: the entrypoint initialises a data directory on its first start.
        "rm -rf /var/lib/mysql && install -d -o mysql -g mysql /var/lib/mysql /run/mysqld",
    ),
    changes=(
        f"ENV {STANDARD_PATH}",
        "VOLUME /var/lib/mysql",
        "EXPOSE 3306",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        'CMD ["mysqld"]',
    ),
)
MAILPIT = StandIn(
    "axllent/mailpit:v1.28.0",
    "an SMTP sink with mailpit's ports, readiness command and message list",
    ("python3", "python3-aiosmtpd"),
    uploads=(("mailpit/mailpit.py", "/mailpit"),),
    commands=("chmod 755 /mailpit",),
    changes=(f"ENV {STANDARD_PATH}", "EXPOSE 1025 8025", 'ENTRYPOINT ["/mailpit"]'),
)
STANDINS = {standin.tag: standin for standin in (PYTHON, MYSQL, MAILPIT)}


def is_standin(tag: str) -> bool:
    return RECIPE_LABEL in (image_labels(tag) or {})


def is_current(standin: StandIn) -> bool:
    """The tag exists and is either a real image or a stand-in of the current recipe."""
    labels = image_labels(standin.tag)
    if labels is None:
        return False
    return labels.get(RECIPE_LABEL, standin.recipe()) == standin.recipe()


def ensure(standins: list[StandIn]) -> None:
    """Build the stand-ins whose tag is absent or stale, side by side; one run at a time."""
    with _lock():
        missing = [standin for standin in standins if not is_current(standin)]
        if not missing:
            return
        if os.geteuid() != 0 or shutil.which("mmdebstrap") is None:
            tags = " ".join(standin.tag for standin in missing)
            pytest.fail(f"no image {tags}: {HOW_TO_BUILD.format(tag=tags)}", pytrace=False)
        with ThreadPoolExecutor(len(missing)) as pool:
            for future in [pool.submit(_build, standin) for standin in missing]:
                future.result()


@contextmanager
def _lock() -> Iterator[None]:
    """Two test runs on one engine would build the same tags at once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "stand-ins.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build(standin: StandIn) -> None:
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="stand-in-") as scratch:
        rootfs = Path(scratch) / "rootfs.tar"
        log = Path(scratch) / "mmdebstrap.log"
        hooks = [f"upload {HERE / source} {target}" for source, target in standin.uploads]
        hooks += [f'chroot "$1" sh -c {shlex.quote(command)}' for command in standin.commands]
        command = [
            "mmdebstrap",
            *MMDEBSTRAP_OPTIONS,
            f"--include={','.join(standin.packages)}",
            *(f"--customize-hook={hook}" for hook in hooks),
            SUITE,
            str(rootfs),
        ]
        with log.open("w") as output:
            done = subprocess.run(command, stdout=output, stderr=output, timeout=SLOW_SECONDS)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"mmdebstrap for {standin.tag} failed:\n{tail}")
        labels = [
            f"LABEL {RECIPE_LABEL}={standin.recipe()}",
            f'LABEL org.opencontainers.image.description="stand-in for {standin.tag}: '
            f'{standin.what}"',
        ]
        changes = [arg for change in (*standin.changes, *labels) for arg in ("--change", change)]
        stale = inspect("image", standin.tag)
        docker("import", *changes, rootfs, standin.tag, timeout=SLOW_SECONDS)
        if stale is not None:  # an older stand-in, now untagged: remove it unless still in use
            docker("rmi", stale["Id"], check=False)
