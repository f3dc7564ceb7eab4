"""Must show 1: every overlay and component builds with `kubectl kustomize`, and every object it
produces validates strictly (unknown fields rejected) against the Kubernetes schemas of the
version k8s/eksctl/cluster.yaml creates."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .kube import K8S, Obj, build_names, cluster_config, component_names, label, overlay_names

# The capitalised markers in the manifests that `replacements` overwrite.
PLACEHOLDER = re.compile(
    r"(?<![A-Z_])(AWS_ACCOUNT_ID|CLUSTER_NAME|CLUSTER_REGION|CERTIFICATE_ARN|EXTERNAL_HOSTNAME"
    r"|RDS_ENDPOINT|SMTP_HOST|MAIL_FROM_ADDRESS|VPC_CIDR)(?![A-Z_])"
)
# kubectl rejects these at apply time (or they are kustomize-only inputs): never in the output.
NOT_FOR_THE_CLUSTER = {"ClusterConfig", "Kustomization", "Component"}


def kubernetes_version() -> str:
    """The cluster's version, once kubernetes-validate is known to have its schemas."""
    version = f"{cluster_config()['metadata']['version']}.0"
    probe = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "probe"}}
    try:
        kubernetes_validate.validate(probe, version, strict=True)
    except kubernetes_validate.utils.VersionNotSupportedError:
        pytest.fail(
            f"kubernetes-validate has no schemas for Kubernetes {version} (the version in "
            "k8s/eksctl/cluster.yaml): upgrade it in pyproject.toml's test extra",
            pytrace=False,
        )
    return version


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def test_every_component_is_built_by_some_overlay() -> None:
    used = set()
    for overlay in overlay_names():
        kustomization = yaml.safe_load(
            (K8S / "overlays" / overlay / "kustomization.yaml").read_text()
        )
        used |= {
            path.rstrip("/").rsplit("/", 1)[-1] for path in kustomization.get("components", [])
        }
    unbuilt = set(component_names()) - used
    assert not unbuilt, f"components no overlay uses (so nothing builds them): {unbuilt}"


def test_every_component_has_a_readme() -> None:
    missing = [
        name
        for name in component_names()
        if not (K8S / "components" / name / "README.md").is_file()
    ]
    assert not missing


@pytest.mark.parametrize("name", build_names())
def test_every_object_validates_strictly(builds: dict[str, list[Obj]], name: str) -> None:
    version = kubernetes_version()
    problems = []
    for obj in builds[name]:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.path) or "(top)"
            problems.append(f"{label(obj)} at {where}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{label(obj)}: no {obj['apiVersion']} schema in Kubernetes {version}")
    assert not problems, "\n".join(problems)


def test_strict_validation_rejects_a_misspelt_field(base: list[Obj]) -> None:
    """Guards the guard: a typo like `readinesProbe` must fail, not pass as unknown data."""
    deployment = next(obj for obj in base if obj["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_version(), strict=True)


@pytest.mark.parametrize("name", build_names())
def test_only_cluster_objects_are_output(builds: dict[str, list[Obj]], name: str) -> None:
    kinds = {obj["kind"] for obj in builds[name]}
    assert not kinds & NOT_FOR_THE_CLUSTER
    assert "site-settings" not in {obj["metadata"]["name"] for obj in builds[name]}


@pytest.mark.parametrize("name", build_names())
def test_no_placeholder_is_left(builds: dict[str, list[Obj]], name: str) -> None:
    left = {
        f"{label(obj)}: {text}"
        for obj in builds[name]
        for text in strings(obj)
        if PLACEHOLDER.search(text)
    }
    assert not left, "a replacement in k8s/ missed these:\n" + "\n".join(sorted(left))
