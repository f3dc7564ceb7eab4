"""Where a segment was produced when it runs in Kubernetes, as the Java SDK's EKS plugin says.

Segments get `origin: AWS::EKS::Container` and an `aws.eks` section with the pod name, the
container id and the cluster name when it is known. Kubernetes is recognised by the
KUBERNETES_SERVICE_HOST variable it sets in every container; the pod name is the host name
Kubernetes gives the container; the container id comes from the cgroup (v1) or mount (v2)
paths of this process.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

EKS_ORIGIN = "AWS::EKS::Container"
CONTAINER_ID = re.compile(r"([0-9a-f]{64})")
# cgroup v2 leaves /proc/self/cgroup empty ("0::/"); the container's own files are mounted
# from a directory named after the container, e.g. .../containers/<id>/hostname.
MOUNT_CONTAINER_ID = re.compile(r"/(?:containers|sandboxes)/([0-9a-f]{64})/")


@dataclass(frozen=True)
class EksMetadata:
    pod: str
    container_id: str | None
    cluster_name: str | None

    def as_aws_section(self) -> dict[str, str]:
        section = {"pod": self.pod}
        if self.container_id:
            section["container_id"] = self.container_id
        if self.cluster_name:
            section["cluster_name"] = self.cluster_name
        return section


def detect_eks(
    environ: Mapping[str, str],
    cluster_name: str | None,
    proc: Path = Path("/proc/self"),
) -> EksMetadata | None:
    """EKS metadata if this process runs in a Kubernetes pod, else None."""
    if not environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    return EksMetadata(
        pod=socket.gethostname(),
        container_id=container_id(_read(proc / "cgroup"), _read(proc / "mountinfo")),
        cluster_name=cluster_name,
    )


def container_id(cgroup: str, mountinfo: str) -> str | None:
    for line in cgroup.splitlines():
        match = CONTAINER_ID.search(line.rsplit("/", 1)[-1])
        if match:
            return match.group(1)
    match = MOUNT_CONTAINER_ID.search(mountinfo)
    return match.group(1) if match else None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
