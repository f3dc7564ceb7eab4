"""Every image built from docker/, run as Kubernetes runs it (k8s/base): as the non-root uid
the image names, on a read-only root filesystem with an empty /tmp, every capability dropped,
no privilege escalation. Each must report healthy through its own HEALTHCHECK; an image that
lost its USER or HEALTHCHECK fails here, not on a cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack import poll_until
from tests.deploy.dockerfiles import IMAGES

from .engine import SESSION_SETUP_SECONDS, docker, health, inspect, logs
from .images import Built

# The first test also waits for the builds: base images, the wheelhouse, the project's images.
pytestmark = [pytest.mark.containers, pytest.mark.timeout(SESSION_SETUP_SECONDS)]

# The securityContext every Deployment and DaemonSet in k8s/base sets, as `docker run` flags
# (tests/deploy/test_policies holds the manifests to it).
AS_KUBERNETES_RUNS_IT = (
    "--read-only",
    "--tmpfs",
    "/tmp:size=64m",  # the emptyDir each pod mounts there
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
)
# The slowest image checks itself every 10 s; a few rounds more for a loaded machine.
HEALTHY_WITHIN_SECONDS = 90


@pytest.fixture(scope="module")
def running(built: dict[str, Built], run: str) -> Iterator[dict[str, str]]:
    """One container per image, all started at once; removed at the end."""
    names: dict[str, str] = {}
    try:
        for repository, image in built.items():
            name = f"{run}-{image.name}"
            docker("run", "--detach", "--name", name, *AS_KUBERNETES_RUNS_IT, image.reference)
            names[repository] = name
        yield names
    finally:
        if names:
            docker("rm", "--force", *names.values(), check=False)


@pytest.mark.parametrize("repository", IMAGES, ids=lambda r: r.rsplit("/", 1)[1])
def test_runs_as_its_non_root_user(built: dict[str, Built], repository: str) -> None:
    config = (inspect("image", built[repository].reference) or {})["Config"]
    uid = str(config.get("User") or "").split(":")[0]
    # runAsNonRoot can only check a numeric user; the kubelet refuses a name.
    assert uid.isdigit() and int(uid) > 0, f"the image's USER is {config.get('User')!r}"


@pytest.mark.parametrize("repository", IMAGES, ids=lambda r: r.rsplit("/", 1)[1])
def test_is_healthy_as_kubernetes_runs_it(
    built: dict[str, Built], running: dict[str, str], repository: str
) -> None:
    config = (inspect("image", built[repository].reference) or {})["Config"]
    assert (config.get("Healthcheck") or {}).get("Test"), "the image has no HEALTHCHECK"
    name = running[repository]
    try:
        poll_until(
            lambda: health(name) == "healthy",
            f"{name} to report healthy",
            timeout=HEALTHY_WITHIN_SECONDS,
            interval=1,
        )
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; now {health(name)}; its log:\n{logs(name)}") from None
    # The process really runs as that user, not as root with a USER line that was ignored.
    uid = docker("exec", name, "python", "-c", "import os; print(os.getuid())").stdout.strip()
    assert uid != "0", "the service runs as root"
    assert uid == str(config["User"]).split(":")[0]
