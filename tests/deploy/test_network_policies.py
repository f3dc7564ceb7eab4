"""NetworkPolicies name who may call whom, and nothing else gets through: with the X-Ray daemon,
the sidecars, or the CloudWatch agent that takes its place (k8s/components/cloudwatch-agent).

The pods are those the kustomizations build (their labels, namespace and named ports); the
rest of the world is a handful of peers with addresses: the ALB and RDS inside the VPC, SES
and AWS's APIs outside it, the cluster DNS, and a pod the project does not know. Each pair is
decided by tests/deploy/netpol.py as Kubernetes defines NetworkPolicy. The objects themselves
are validated strictly with every other one (test_kustomize.py).
"""

from __future__ import annotations

import ipaddress

import pytest

from .kube import Obj, cluster_config, of_kind, pod_template, workloads
from .kube import overlay_names as _overlay_names
from .netpol import Peer, allowed, selecting

BUILDS = ["base", *_overlay_names()]
NAMESPACE = "default"
# Addresses in the VPC (eksctl's range in k8s/eksctl/cluster.yaml): pods have such addresses
# too with the Amazon VPC CNI.
POD_ADDRESSES = {
    "usermgmt": "192.168.100.10",
    "notification-v1": "192.168.100.11",
    "notification-v2": "192.168.100.12",
    "xray-daemon": "192.168.100.13",
    "cloudwatch-agent": "192.168.100.14",
}
APPS = ("usermgmt", "notification-v1", "notification-v2")
OTHERS = {
    "alb": Peer("alb", "192.168.10.20"),  # the internet-facing ALB, in a public subnet
    "rds": Peer("rds", "192.168.110.5"),  # in the cluster's private subnets
    "ses": Peer("ses", "52.94.0.10"),
    "aws-api": Peer("aws-api", "52.94.0.20"),  # X-Ray and STS
    "internet": Peer("internet", "203.0.113.9"),
    "kube-dns": Peer(
        "kube-dns", "192.168.100.2", namespace="kube-system", labels={"k8s-app": "kube-dns"}
    ),
    "stranger": Peer("stranger", "192.168.100.66", namespace=NAMESPACE, labels={"app": "debug"}),
}

HTTP_USERMGMT = (8095, "TCP")
HTTP_NOTIFICATION = (8096, "TCP")
SEGMENTS = (2000, "UDP")
SAMPLING = (2000, "TCP")
OTLP = (4318, "TCP")
DNS = [(53, "UDP"), (53, "TCP")]

# (from, to, port, protocol): what the call chain needs, and nothing more.
ALLOWED = [
    ("alb", "usermgmt", *HTTP_USERMGMT),
    ("usermgmt", "notification-v1", *HTTP_NOTIFICATION),
    ("usermgmt", "notification-v2", *HTTP_NOTIFICATION),
    ("usermgmt", "rds", 3306, "TCP"),
    ("notification-v1", "ses", 587, "TCP"),
    ("notification-v2", "ses", 587, "TCP"),
    *[(app, "xray-daemon", *port) for app in APPS for port in (SEGMENTS, SAMPLING)],
    ("xray-daemon", "aws-api", 443, "TCP"),
    *[(pod, "kube-dns", *port) for pod in (*APPS, "xray-daemon") for port in DNS],
]
DENIED = [
    # Only user management calls notification: /send mails anyone, V2 has a fault endpoint.
    ("stranger", "notification-v1", *HTTP_NOTIFICATION),
    ("stranger", "notification-v2", *HTTP_NOTIFICATION),
    ("notification-v1", "notification-v2", *HTTP_NOTIFICATION),
    ("xray-daemon", "notification-v1", *HTTP_NOTIFICATION),
    ("alb", "notification-v1", *HTTP_NOTIFICATION),
    # Nothing calls user management but the ALB, from the VPC.
    ("internet", "usermgmt", *HTTP_USERMGMT),
    ("notification-v1", "usermgmt", *HTTP_USERMGMT),
    ("xray-daemon", "usermgmt", *HTTP_USERMGMT),
    # The daemon (whose TCP proxy signs with its role) takes the apps' segments only.
    ("stranger", "xray-daemon", *SEGMENTS),
    ("stranger", "xray-daemon", *SAMPLING),
    ("alb", "xray-daemon", *SAMPLING),
    # Each reaches out only where its work is.
    ("usermgmt", "internet", 443, "TCP"),
    ("usermgmt", "ses", 587, "TCP"),
    ("notification-v1", "rds", 3306, "TCP"),
    ("notification-v1", "internet", 443, "TCP"),
    ("xray-daemon", "rds", 3306, "TCP"),
    ("xray-daemon", "ses", 587, "TCP"),
    ("usermgmt", "notification-v1", 9999, "TCP"),
]


# With the CloudWatch agent (k8s/components/cloudwatch-agent) in the daemon's place: the same
# call chain, the apps reach the agent on the daemon's ports and OTLP's, and the agent AWS.
AGENT_ALLOWED = [
    *[call for call in ALLOWED if "xray-daemon" not in call[:2]],
    *[(app, "cloudwatch-agent", *port) for app in APPS for port in (SEGMENTS, SAMPLING, OTLP)],
    ("cloudwatch-agent", "aws-api", 443, "TCP"),
    *[("cloudwatch-agent", "kube-dns", *port) for port in DNS],
]
AGENT_DENIED = [
    *[call for call in DENIED if "xray-daemon" not in call[:2]],
    # The agent's TCP proxy signs with its role too: the apps only, on its three ports only.
    ("stranger", "cloudwatch-agent", *SEGMENTS),
    ("stranger", "cloudwatch-agent", *SAMPLING),
    ("stranger", "cloudwatch-agent", *OTLP),
    ("alb", "cloudwatch-agent", *OTLP),
    ("internet", "cloudwatch-agent", *OTLP),
    ("usermgmt", "cloudwatch-agent", 4317, "TCP"),
    ("notification-v2", "cloudwatch-agent", 13133, "TCP"),
    ("cloudwatch-agent", "usermgmt", *HTTP_USERMGMT),
    ("cloudwatch-agent", "notification-v2", *HTTP_NOTIFICATION),
    ("cloudwatch-agent", "rds", 3306, "TCP"),
    ("cloudwatch-agent", "ses", 587, "TCP"),
    ("cloudwatch-agent", "internet", 80, "TCP"),
    # The apps reach out to nothing new: the agent uploads, not they.
    ("notification-v2", "aws-api", 443, "TCP"),
    ("usermgmt", "aws-api", 443, "TCP"),
]


def with_agent(objects: list[Obj]) -> bool:
    return any(w["metadata"]["name"] == "cloudwatch-agent" for w in workloads(objects))


def pods(objects: list[Obj]) -> dict[str, Peer]:
    found = {}
    for workload in workloads(objects):
        template = pod_template(workload)
        name = workload["metadata"]["name"]
        ports = {
            port["name"]: port["containerPort"]
            for container in template["spec"]["containers"]
            for port in container.get("ports", [])
            if "name" in port
        }
        found[name] = Peer(
            name,
            POD_ADDRESSES[name],
            namespace=workload["metadata"].get("namespace"),
            labels=template["metadata"]["labels"],
            ports=ports,
        )
    return found


def peers(objects: list[Obj]) -> dict[str, Peer]:
    return {**OTHERS, **pods(objects)}


def decide(objects: list[Obj], source: str, destination: str, port: int, protocol: str) -> bool:
    everyone = peers(objects)
    policies = of_kind(objects, "NetworkPolicy")
    return allowed(policies, everyone[source], everyone[destination], port, protocol)


def ids(pairs: list[tuple[str, str, int, str]]) -> list[str]:
    return [f"{a}->{b}:{port}/{protocol}" for a, b, port, protocol in pairs]


@pytest.mark.parametrize("name", BUILDS)
def test_every_pod_of_the_project_is_isolated_both_ways(
    builds: dict[str, list[Obj]], name: str
) -> None:
    policies = of_kind(builds[name], "NetworkPolicy")
    for pod in pods(builds[name]).values():
        for direction in ("Ingress", "Egress"):
            assert selecting(policies, pod, direction), f"{name}: {pod.name} {direction} is open"


@pytest.mark.parametrize("call", ALLOWED, ids=ids(ALLOWED))
def test_what_the_call_chain_needs_is_allowed(
    base: list[Obj], call: tuple[str, str, int, str]
) -> None:
    assert decide(base, *call)


@pytest.mark.parametrize("call", DENIED, ids=ids(DENIED))
def test_everything_else_is_denied(base: list[Obj], call: tuple[str, str, int, str]) -> None:
    assert not decide(base, *call)


AGENT_BUILDS = [n for n in BUILDS if n.startswith("otel")]


@pytest.mark.parametrize("name", [n for n in BUILDS if n not in ("base", "sidecar", *AGENT_BUILDS)])
def test_the_other_overlays_keep_the_same_rules(builds: dict[str, list[Obj]], name: str) -> None:
    for call in ALLOWED:
        assert decide(builds[name], *call), call
    for call in DENIED:
        assert not decide(builds[name], *call), call


@pytest.mark.parametrize("name", AGENT_BUILDS)
@pytest.mark.parametrize("call", AGENT_ALLOWED, ids=ids(AGENT_ALLOWED))
def test_with_the_agent_the_apps_reach_it_and_it_reaches_aws(
    builds: dict[str, list[Obj]], name: str, call: tuple[str, str, int, str]
) -> None:
    assert with_agent(builds[name]) and not has_object_named(builds[name], "xray-daemon")
    assert decide(builds[name], *call)


@pytest.mark.parametrize("name", AGENT_BUILDS)
@pytest.mark.parametrize("call", AGENT_DENIED, ids=ids(AGENT_DENIED))
def test_with_the_agent_nothing_else_gets_through(
    builds: dict[str, list[Obj]], name: str, call: tuple[str, str, int, str]
) -> None:
    assert not decide(builds[name], *call)


def has_object_named(objects: list[Obj], name: str) -> bool:
    """Whether a DaemonSet, NetworkPolicy, Service or ServiceAccount of that name is built."""
    return any(
        obj["metadata"]["name"] == name
        for obj in objects
        if obj["kind"] in ("DaemonSet", "NetworkPolicy", "Service", "ServiceAccount")
    )


def test_with_sidecar_daemons_the_apps_reach_aws_and_nothing_more(
    builds: dict[str, list[Obj]],
) -> None:
    sidecar = builds["sidecar"]
    assert not [
        p for p in of_kind(sidecar, "NetworkPolicy") if p["metadata"]["name"] == "xray-daemon"
    ]
    for app in ("usermgmt", "notification-v1", "notification-v2"):
        assert decide(sidecar, app, "aws-api", 443, "TCP")
        assert not decide(sidecar, app, "internet", 80, "TCP")
    assert decide(sidecar, "usermgmt", "notification-v1", *HTTP_NOTIFICATION)
    assert not decide(sidecar, "stranger", "notification-v1", *HTTP_NOTIFICATION)


def test_the_vpc_range_the_policies_name_is_the_clusters(base: list[Obj]) -> None:
    """VPC_CIDR comes from k8s/eksctl/cluster.yaml, and the peers above live in it."""
    vpc = ipaddress.ip_network(cluster_config()["vpc"]["cidr"])
    blocks = [
        ipaddress.ip_network(peer["ipBlock"]["cidr"])
        for policy in of_kind(base, "NetworkPolicy")
        for rule in [*policy["spec"].get("ingress", []), *policy["spec"].get("egress", [])]
        for peer in rule.get("from", rule.get("to", []))
        if "ipBlock" in peer
    ]
    assert vpc in blocks
    for name in ("alb", "rds", *POD_ADDRESSES):
        address = OTHERS[name].ip if name in OTHERS else POD_ADDRESSES[name]
        assert ipaddress.ip_address(address) in vpc, name
    assert cluster_config()["addons"] == [
        {"name": "vpc-cni", "configurationValues": '{"enableNetworkPolicy": "true"}'}
    ], "without it, the VPC CNI accepts NetworkPolicy objects and enforces none"
