"""Site-specific values each live in one place (site.env, or the eksctl file for the cluster's
name and region), secrets come from files git never sees, and the eksctl cluster provides
what the manifests expect of it."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from .kube import (
    EKSCTL_CLUSTER,
    K8S,
    Obj,
    containers,
    kustomize,
    materialise,
    named,
    of_kind,
)
from .tools import REPO

# New values for everything set once; the example values they replace must vanish entirely.
SITE = {
    "AWS_ACCOUNT_ID": "999988887777",
    "CERTIFICATE_ARN": "arn:aws:acm:eu-west-3:999988887777:certificate/one-place",
    "EXTERNAL_HOSTNAME": "users.one-place.test",
    "RDS_ENDPOINT": "db.one-place.test",
    "SMTP_HOST": "smtp.one-place.test",
    "MAIL_FROM_ADDRESS": "sender@one-place.test",
}
CLUSTER_NAME, REGION = "one-place-cluster", "eu-west-3"
EXAMPLE_VALUES = ("111122223333", "example.com", "us-east-1")
OLD_CLUSTER_NAME = re.compile(r"(?m): ['\"]?xray-fastapi['\"]?$")


def environment_value(objects: list[Obj], variable: str) -> set[str]:
    return {c.env()[variable]["value"] for c in containers(objects) if variable in c.env()}


@pytest.fixture(scope="module")
def relocated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Obj]]:
    """The base and the overlays that add objects of their own (the sidecar, the CloudWatch
    agent) built after changing only site.env and cluster.yaml."""
    k8s = materialise(tmp_path_factory.mktemp("one-place"))
    (k8s / "base" / "site.env").write_text("".join(f"{k}={v}\n" for k, v in SITE.items()))
    cluster = yaml.safe_load((k8s / "eksctl" / "cluster.yaml").read_text())
    cluster["metadata"].update(name=CLUSTER_NAME, region=REGION)
    (k8s / "eksctl" / "cluster.yaml").write_text(yaml.safe_dump(cluster))
    return {
        name: kustomize(k8s / path)
        for name, path in (
            ("base", "base"),
            ("sidecar", "overlays/sidecar"),
            ("otel-canary", "overlays/otel-canary"),
        )
    }


@pytest.mark.parametrize("name", ["base", "sidecar", "otel-canary"])
def test_each_site_value_is_set_in_one_place(relocated: dict[str, list[Obj]], name: str) -> None:
    objects = relocated[name]
    assert environment_value(objects, "EKS_CLUSTER_NAME") == {CLUSTER_NAME}
    assert environment_value(objects, "AWS_REGION") == {REGION}
    assert environment_value(objects, "AWS_MAIL_SERVER_HOST") == {SITE["SMTP_HOST"]}
    assert environment_value(objects, "AWS_MAIL_SERVER_FROM_ADDRESS") == {SITE["MAIL_FROM_ADDRESS"]}
    assert named(objects, "Service", "mysql")["spec"]["externalName"] == SITE["RDS_ENDPOINT"]
    assert named(objects, "Service", "smtp-service")["spec"]["externalName"] == SITE["SMTP_HOST"]
    notes = named(objects, "Ingress", "usermgmt")["metadata"]["annotations"]
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == SITE["CERTIFICATE_ARN"]
    assert notes["external-dns.alpha.kubernetes.io/hostname"] == SITE["EXTERNAL_HOSTNAME"]
    arns = [
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        for sa in of_kind(objects, "ServiceAccount")
        if "annotations" in sa["metadata"]
    ]
    assert arns and all(arn.split(":")[4] == SITE["AWS_ACCOUNT_ID"] for arn in arns)
    # Nothing kept a copy of the old values: they were set nowhere else.
    text = yaml.safe_dump_all(objects)
    for old in EXAMPLE_VALUES:
        assert old not in text, f"{old!r} is still set somewhere besides the one place"
    assert not OLD_CLUSTER_NAME.search(text), "the cluster name is set somewhere else too"


def test_cluster_file_provides_what_the_manifests_expect() -> None:
    cluster = yaml.safe_load(EKSCTL_CLUSTER.read_text())
    assert cluster["apiVersion"] == "eksctl.io/v1alpha5" and cluster["kind"] == "ClusterConfig"
    assert cluster["iam"]["withOIDC"] is True, "IRSA needs the cluster's OIDC provider"
    assert isinstance(cluster["metadata"]["version"], str), "quote it: 1.30 would read as 1.3"
    accounts = {
        (sa["metadata"]["namespace"], sa["metadata"]["name"])
        for sa in cluster["iam"]["serviceAccounts"]
    }
    assert ("default", "xray-daemon") in accounts
    assert ("default", "cloudwatch-agent") in accounts
    assert {
        ("kube-system", "aws-load-balancer-controller"),
        ("kube-system", "external-dns"),
    } <= accounts


def test_secret_sources_stay_out_of_git() -> None:
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    for generator in kustomization["secretGenerator"]:
        for source in generator.get("envs", []) + generator.get("files", []):
            path = K8S / "base" / source.rpartition("=")[2]
            ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=REPO).returncode
            assert ignored == 0, f"git would commit {path}: ignore it"
            example = path.with_name(path.name + ".example")
            assert example.is_file(), f"no {example} to copy from"


def test_examples_carry_every_key_the_pods_read(base: list[Obj]) -> None:
    """Someone who copies the examples gets all the keys: no pod fails on a missing one."""
    for container in containers(base):
        for variable, item in container.env().items():
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                generator = ref["name"].rsplit("-", 1)[0]
                example = K8S / "base" / "secrets" / f"{generator}.env.example"
                keys = {
                    line.split("=", 1)[0]
                    for line in example.read_text().splitlines()
                    if "=" in line and not line.startswith("#")
                }
                assert ref["key"] in keys, f"{container.where}: {variable} is not in {example.name}"
