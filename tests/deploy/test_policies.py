"""Must show 2, per container and pod, over every built kustomization: pinned images, probes,
resources, a hardened securityContext, only variables the program reads, no plaintext secret,
and each canary step's replica counts as `make canary` was given them."""

from __future__ import annotations

import re

import pytest

from . import readers
from .kube import (
    Container,
    Obj,
    build_names,
    canary_builds,
    canary_name,
    containers,
    image_repository,
    image_tag,
    label,
    named,
    of_kind,
)

BUILDS = build_names()
OWN_IMAGES = "xray-fastapi/"
# Third-party images: an exact release (a patch version) or a digest, never a moving tag. The
# CloudWatch agent's releases carry their build number: 1.300070.0b1586.
EXACT_RELEASE = re.compile(r"^v?\d+\.\d+\.\d+(b\d+)?([-.][\w.]+)?$")
CREDENTIAL_NAME = re.compile(r"PASS|SECRET|TOKEN|ACCESS_KEY|USERNAME")
VARIABLE_REFERENCE = re.compile(r"\$\((\w+)\)")
# A canary overlay (X-Ray SDK or OpenTelemetry), alone or as a step `make canary` applies.
CANARY = re.compile(r"^(otel-)?canary(-\d+-\d+)?$")


def each(builds: dict[str, list[Obj]], name: str) -> list[Container]:
    found = list(containers(builds[name]))
    assert found, f"{name} has no containers"
    return found


@pytest.mark.parametrize("name", BUILDS)
def test_images_are_pinned(builds: dict[str, list[Obj]], name: str) -> None:
    for container in each(builds, name):
        image = container.spec["image"]
        tag = image_tag(image)
        assert tag not in (None, "latest"), f"{container.where}: {image} has no fixed tag"
        if not image.startswith(OWN_IMAGES) and "@sha256:" not in image:
            # Own images get the git tag from `make deploy` (test_deploy_script.py).
            assert EXACT_RELEASE.match(tag or ""), f"{container.where}: {image} is not a release"


@pytest.mark.parametrize("name", BUILDS)
def test_every_container_is_probed(builds: dict[str, list[Obj]], name: str) -> None:
    for container in each(builds, name):
        spec = container.spec
        assert "livenessProbe" in spec, f"{container.where} has no liveness probe"
        # A sidecar's readiness would gate the pod on the daemon; its startup probe orders it.
        needed = "startupProbe" if container.sidecar else "readinessProbe"
        assert needed in spec, f"{container.where} has no {needed}"


@pytest.mark.parametrize("name", BUILDS)
def test_every_container_has_requests_and_limits(builds: dict[str, list[Obj]], name: str) -> None:
    for container in each(builds, name):
        resources = container.spec.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                assert resource in resources.get(kind, {}), (
                    f"{container.where}: no {kind}.{resource}"
                )


@pytest.mark.parametrize("name", BUILDS)
def test_pods_run_hardened(builds: dict[str, list[Obj]], name: str) -> None:
    for container in each(builds, name):
        pod, where = container.pod, container.where
        pod_context = pod.get("securityContext", {})
        context = container.spec.get("securityContext", {})
        assert pod_context.get("runAsNonRoot") is True, f"{where}: pod lacks runAsNonRoot"
        # A named image user cannot be checked by the kubelet: runAsNonRoot then refuses to run.
        user = context.get("runAsUser", pod_context.get("runAsUser"))
        assert isinstance(user, int) and user > 0, f"{where}: no numeric non-root runAsUser"
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault", f"{where}: no RuntimeDefault seccomp"
        assert context.get("allowPrivilegeEscalation") is False, where
        assert context.get("readOnlyRootFilesystem") is True, where
        assert context.get("privileged") is not True, where
        assert "ALL" in context.get("capabilities", {}).get("drop", []), where
        assert not context.get("capabilities", {}).get("add"), where
        for host_namespace in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(host_namespace), f"{where}: {host_namespace}"
        assert pod.get("automountServiceAccountToken") is False, f"{where}: API token mounted"


@pytest.mark.parametrize("name", BUILDS)
def test_every_variable_set_is_read_by_the_program(builds: dict[str, list[Obj]], name: str) -> None:
    for container in each(builds, name):
        env = container.env()
        repository = image_repository(container.spec["image"])
        unread = readers.unread(repository, set(env))
        assert not unread, f"{container.where} sets variables {repository} never reads: {unread}"
        defined: list[str] = []
        for item in container.spec.get("env", []):
            for reference in VARIABLE_REFERENCE.findall(item.get("value", "")):
                # The kubelet expands only variables defined earlier in the list.
                assert reference in defined, f"{container.where}: $({reference}) is undefined"
            defined.append(item["name"])
        if repository.startswith(OWN_IMAGES):
            # Else Kubernetes adds <SERVICE>_HOST/_PORT variables for every Service around.
            assert container.pod.get("enableServiceLinks") is False, container.where


@pytest.mark.parametrize("name", BUILDS)
def test_no_credential_is_written_in_a_manifest(builds: dict[str, list[Obj]], name: str) -> None:
    for container in each(builds, name):
        for variable, item in container.env().items():
            if CREDENTIAL_NAME.search(variable):
                assert "secretKeyRef" in item.get("valueFrom", {}), (
                    f"{container.where}: {variable} must come from a Secret, not a value"
                )
    for secret in of_kind(builds[name], "Secret"):
        assert "stringData" not in secret, label(secret)


@pytest.mark.parametrize("name", BUILDS)
def test_secret_references_resolve(builds: dict[str, list[Obj]], name: str) -> None:
    """kustomize renames generated Secrets (hash suffix); each reference must follow."""
    for container in each(builds, name):
        for variable, item in container.env().items():
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                secret = named(builds[name], "Secret", ref["name"])
                assert ref["key"] in secret["data"], f"{container.where}: {variable}"


@pytest.mark.parametrize(
    ("overlay", "v1", "v2"),
    canary_builds(),
    ids=[canary_name(v1, v2, o) for o, v1, v2 in canary_builds()],
)
def test_canary_replicas_are_as_asked(
    builds: dict[str, list[Obj]], overlay: str, v1: int, v2: int
) -> None:
    objects = builds[canary_name(v1, v2, overlay)]
    assert named(objects, "Deployment", "notification-v1")["spec"]["replicas"] == v1
    assert named(objects, "Deployment", "notification-v2")["spec"]["replicas"] == v2


@pytest.mark.parametrize("name", BUILDS)
def test_canaries_split_per_request_and_only_canaries(
    builds: dict[str, list[Obj]], name: str
) -> None:
    """Behind kube-proxy a kept-alive connection stays on one pod: while V1 and V2 share the
    Service, user management must open a connection per call; elsewhere it keeps them alive."""
    pod = named(builds[name], "Deployment", "usermgmt")["spec"]["template"]["spec"]
    [server] = [c for c in pod["containers"] if c["name"] == "server"]
    env = {item["name"]: item.get("value") for item in server["env"]}
    expected = "per-request" if CANARY.match(name) else None
    assert env.get("NOTIFICATION_CONNECTION_POLICY") == expected
