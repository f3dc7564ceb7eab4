"""Building the kustomizations under k8s/ and walking the objects they produce."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.k8s_deploy import wrapper_kustomization

from .tools import REPO, run

K8S = REPO / "k8s"
SECRETS = Path("base") / "secrets"
EKSCTL_CLUSTER = K8S / "eksctl" / "cluster.yaml"
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob")

Obj = dict[str, Any]


def materialise(destination: Path) -> Path:
    """A copy of the repository's k8s/ and deploy script with each secrets/*.example copied to
    the file the secretGenerator reads, as a user does: the builds never read the developer's
    real secret files, and work where they do not exist (CI)."""
    copy = destination / "k8s"
    shutil.copytree(K8S, copy, ignore=_real_secret_files)
    for example in (copy / SECRETS).glob("*.example"):
        shutil.copyfile(example, example.with_suffix(""))
    (destination / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "k8s_deploy.py", destination / "scripts")
    return copy


def _real_secret_files(directory: str, names: list[str]) -> list[str]:
    if Path(directory).resolve() != (K8S / SECRETS).resolve():
        return []
    return [name for name in names if name != ".gitignore" and not name.endswith(".example")]


def kustomize(directory: Path) -> list[Obj]:
    result = run("kubectl", "kustomize", directory)
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed:\n{result.stderr}", pytrace=False)
    return [obj for obj in yaml.safe_load_all(result.stdout) if obj]


def overlay_names() -> list[str]:
    return sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())


# The canary steps the docs walk through; `make canary` fills k8s/overlays/canary with any.
CANARY_STEPS = ((4, 0), (3, 1), (2, 2), (1, 3), (0, 4))
# The same on the OpenTelemetry canary (`make canary V1=3 V2=1 OVERLAY=otel-canary`): the first
# step and the last, where V2 takes everything.
OTEL_CANARY_STEPS = ((3, 1), (0, 4))


def canary_name(v1: int, v2: int, overlay: str = "canary") -> str:
    return f"{overlay}-{v1}-{v2}"


def canary_builds() -> list[tuple[str, int, int]]:
    """(overlay, V1, V2) for every canary step built."""
    return [("canary", *step) for step in CANARY_STEPS] + [
        ("otel-canary", *step) for step in OTEL_CANARY_STEPS
    ]


def build_names() -> list[str]:
    """Every kustomization users apply: the base, each overlay, and each canary step as
    `make canary` applies it."""
    return ["base", *overlay_names(), *(canary_name(v1, v2, o) for o, v1, v2 in canary_builds())]


def canary_step(k8s_copy: Path, v1: int, v2: int, overlay: str = "canary") -> Path:
    """The kustomization `make canary V1=v1 V2=v2 [OVERLAY=...]` applies (images as they are)."""
    directory = k8s_copy / "steps" / canary_name(v1, v2, overlay)
    directory.mkdir(parents=True)
    (directory / "kustomization.yaml").write_text(
        wrapper_kustomization(k8s_copy / "overlays" / overlay, directory, replicas=(v1, v2))
    )
    return directory


def component_names() -> list[str]:
    return sorted(p.name for p in (K8S / "components").iterdir() if p.is_dir())


def cluster_config() -> Obj:
    config: Obj = yaml.safe_load(EKSCTL_CLUSTER.read_text())
    return config


def label(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[Obj], kind: str, name: str) -> Obj:
    [obj] = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    return obj


def workloads(objects: list[Obj]) -> list[Obj]:
    return [obj for obj in objects if obj["kind"] in WORKLOAD_KINDS]


def pod_template(workload: Obj) -> Obj:
    template: Obj = workload["spec"]["template"]
    return template


@dataclass(frozen=True)
class Container:
    workload: Obj
    spec: Obj
    sidecar: bool  # a native sidecar: an init container with restartPolicy Always

    @property
    def where(self) -> str:
        return f"{label(self.workload)} container {self.spec['name']}"

    @property
    def pod(self) -> Obj:
        pod: Obj = pod_template(self.workload)["spec"]
        return pod

    def env(self) -> dict[str, Obj]:
        return {item["name"]: item for item in self.spec.get("env", [])}

    def port(self, name_or_number: str | int, protocol: str = "TCP") -> Obj | None:
        for port in self.spec.get("ports", []):
            if port.get("protocol", "TCP") == protocol and name_or_number in (
                port.get("name"),
                port["containerPort"],
            ):
                return dict(port)
        return None


def containers(objects: list[Obj]) -> Iterator[Container]:
    """Every long-running container: the regular ones and the native sidecars."""
    for workload in workloads(objects):
        pod = pod_template(workload)["spec"]
        for spec in pod.get("initContainers", []):
            if spec.get("restartPolicy") == "Always":
                yield Container(workload, spec, sidecar=True)
        for spec in pod["containers"]:
            yield Container(workload, spec, sidecar=False)


def image_repository(image: str) -> str:
    """`amazon/aws-xray-daemon:3.3.15` -> `amazon/aws-xray-daemon` (a registry port kept)."""
    name = image.split("@", 1)[0]
    head, _, tail = name.rpartition("/")
    return f"{head}/{tail.split(':', 1)[0]}" if head else tail.split(":", 1)[0]


def image_tag(image: str) -> str | None:
    tail = image.split("@", 1)[0].rpartition("/")[2]
    return tail.split(":", 1)[1] if ":" in tail else None
