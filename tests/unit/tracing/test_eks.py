"""EKS metadata, as the Java SDK's EKS plugin reports it."""

import socket
from pathlib import Path

from tracing._eks import EKS_ORIGIN, container_id, detect_eks

CONTAINER = "a" * 40 + "0123456789abcdef01234567"


def test_not_in_kubernetes_means_no_metadata() -> None:
    assert detect_eks({}, "demo") is None


def test_in_kubernetes_reports_pod_and_cluster(tmp_path: Path) -> None:
    (tmp_path / "cgroup").write_text(f"12:memory:/kubepods/burstable/pod1234/{CONTAINER}\n")
    eks = detect_eks({"KUBERNETES_SERVICE_HOST": "10.100.0.1"}, "demo", proc=tmp_path)
    assert eks is not None
    assert eks.as_aws_section() == {
        "pod": socket.gethostname(),
        "container_id": CONTAINER,
        "cluster_name": "demo",
    }
    assert EKS_ORIGIN == "AWS::EKS::Container"


def test_container_id_from_cgroup_v1() -> None:
    cgroup = f"1:name=systemd:/kubepods/besteffort/pod0/{CONTAINER}\n0::/\n"
    assert container_id(cgroup, "") == CONTAINER


def test_container_id_from_cgroup_v2_mounts() -> None:
    mountinfo = (
        "623 615 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/"
        f"{CONTAINER}/hostname /etc/hostname rw,nosuid - ext4 /dev/root rw\n"
    )
    assert container_id("0::/\n", mountinfo) == CONTAINER


def test_unknown_container_id_is_left_out(tmp_path: Path) -> None:
    eks = detect_eks({"KUBERNETES_SERVICE_HOST": "10.100.0.1"}, None, proc=tmp_path)
    assert eks is not None
    assert eks.as_aws_section() == {"pod": socket.gethostname()}
