"""scripts/k8s_deploy.py, behind `make deploy` and `make canary V1=3 V2=1 [OVERLAY=otel-canary]`:
the right overlay,
the pushed images, and a clear refusal of what would fail or deploy something broken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .kube import Obj, containers, image_repository, materialise, named

REGISTRY = "999988887777.dkr.ecr.eu-west-3.amazonaws.com"
TAG = "v1.2.3-4-gabcdef0"


def deploy(k8s: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = k8s.parent / "scripts" / "k8s_deploy.py"
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def k8s(tmp_path: Path) -> Path:
    return materialise(tmp_path)


def dry_run(k8s: Path, *args: str) -> list[Obj]:
    result = deploy(k8s, "--registry", REGISTRY, "--tag", TAG, "--dry-run", *args)
    assert result.returncode == 0, result.stderr
    return [obj for obj in yaml.safe_load_all(result.stdout) if obj]


def test_canary_applies_the_named_split_with_the_pushed_images(k8s: Path) -> None:
    objects = dry_run(k8s, "--canary", "3", "1")
    assert named(objects, "Deployment", "notification-v1")["spec"]["replicas"] == 3
    assert named(objects, "Deployment", "notification-v2")["spec"]["replicas"] == 1
    own = {c.spec["image"] for c in containers(objects) if "xray-fastapi/" in c.spec["image"]}
    assert own == {
        f"{REGISTRY}/xray-fastapi/usermgmt:{TAG}",
        f"{REGISTRY}/xray-fastapi/notification-v1:{TAG}",
        f"{REGISTRY}/xray-fastapi/notification-v2:{TAG}",
    }


def test_the_opentelemetry_canary_takes_the_split_too(k8s: Path) -> None:
    objects = dry_run(k8s, "--canary", "3", "1", "--overlay", "otel-canary")
    assert named(objects, "Deployment", "notification-v1")["spec"]["replicas"] == 3
    assert named(objects, "Deployment", "notification-v2")["spec"]["replicas"] == 1
    [v2] = list(containers([named(objects, "Deployment", "notification-v2")]))
    assert v2.env()["TRACING_SDK"]["value"] == "otel"
    assert named(objects, "DaemonSet", "cloudwatch-agent")


def test_a_split_on_an_overlay_without_both_versions_is_refused(k8s: Path) -> None:
    result = deploy(
        k8s,
        "--registry",
        REGISTRY,
        "--tag",
        TAG,
        "--dry-run",
        "--canary",
        "3",
        "1",
        "--overlay",
        "sidecar",
    )
    assert result.returncode == 2
    assert "canary, otel-canary" in result.stderr and "'sidecar' is not one" in result.stderr


@pytest.mark.parametrize("overlay", [None, "sidecar", "otel-canary", "otel"])
def test_every_image_of_this_repository_is_replaced(k8s: Path, overlay: str | None) -> None:
    objects = dry_run(k8s, *(["--overlay", overlay] if overlay else []))
    for container in containers(objects):
        repository = image_repository(container.spec["image"])
        if "xray-fastapi/" in repository:
            assert repository.startswith(f"{REGISTRY}/"), f"{container.where}: add it to IMAGES"


def test_any_split_is_applied_not_only_the_documented_steps(k8s: Path) -> None:
    objects = dry_run(k8s, "--canary", "5", "0")
    assert named(objects, "Deployment", "notification-v1")["spec"]["replicas"] == 5
    assert named(objects, "Deployment", "notification-v2")["spec"]["replicas"] == 0


@pytest.mark.parametrize(
    ("v1", "v2", "said"),
    [("0", "0", "no notification pod"), ("-1", "2", "0 to 50"), ("3", "500", "0 to 50")],
    ids=["no-pods", "negative", "typo"],
)
def test_an_impossible_split_is_refused_saying_why(k8s: Path, v1: str, v2: str, said: str) -> None:
    result = deploy(k8s, "--registry", REGISTRY, "--tag", TAG, "--dry-run", "--canary", v1, v2)
    assert result.returncode == 2
    assert said in result.stderr and "k8s_deploy:" in result.stderr


def test_a_missing_secret_file_is_named_with_the_fix(k8s: Path) -> None:
    (k8s / "base" / "secrets" / "usermgmt-db.env").unlink()
    result = deploy(k8s, "--registry", REGISTRY, "--tag", TAG, "--dry-run")
    assert result.returncode == 2
    missing = "k8s/base/secrets/usermgmt-db.env"
    assert f"cp {missing}.example {missing}" in result.stderr


def test_example_site_values_are_never_applied(k8s: Path) -> None:
    result = deploy(k8s, "--registry", REGISTRY, "--tag", TAG)
    assert result.returncode == 2
    assert "example values for AWS_ACCOUNT_ID, CERTIFICATE_ARN" in result.stderr


@pytest.mark.parametrize(
    ("registry", "tag"),
    [(".dkr.ecr.us-east-1.amazonaws.com", TAG), (REGISTRY, "latest"), (REGISTRY, "")],
    ids=["no-account", "latest", "no-tag"],
)
def test_an_incomplete_image_reference_is_refused(k8s: Path, registry: str, tag: str) -> None:
    result = deploy(k8s, "--registry", registry, "--tag", tag, "--dry-run")
    assert result.returncode == 2 and "k8s_deploy:" in result.stderr
