"""Who may call whom under a set of NetworkPolicy objects, decided as Kubernetes defines it.

A connection goes through when the source's egress and the destination's ingress both allow
it. A pod that no policy of a direction selects is open in that direction; one that some policy
selects takes only what one of them allows. Traffic from a pod's own node (the kubelet's
probes) is always allowed and not modelled here.

`ipBlock` is matched on addresses, pods' included: the Amazon VPC CNI gives pods addresses in
the VPC and enforces it that way (the Kubernetes API leaves pod addresses in an ipBlock to the
implementation).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
Labels = Mapping[str, str]


@dataclass(frozen=True)
class Peer:
    name: str
    ip: str
    # Pods only: their namespace, labels and named container ports.
    namespace: str | None = None
    labels: Labels = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None


def allowed(
    policies: Iterable[Obj], source: Peer, destination: Peer, port: int, protocol: str
) -> bool:
    policies = list(policies)
    return _direction_allows(
        policies, "Egress", source, destination, destination, port, protocol
    ) and _direction_allows(policies, "Ingress", destination, source, destination, port, protocol)


def selecting(policies: Iterable[Obj], pod: Peer, direction: str) -> list[Obj]:
    """The policies that isolate `pod` in `direction` ("Ingress" or "Egress")."""
    return [
        policy
        for policy in policies
        if policy["metadata"].get("namespace") == pod.namespace
        and direction in _policy_types(policy)
        and _selects(policy["spec"]["podSelector"], pod.labels)
    ]


def _direction_allows(
    policies: list[Obj],
    direction: str,
    pod: Peer,
    other: Peer,
    destination: Peer,
    port: int,
    protocol: str,
) -> bool:
    if not pod.is_pod:
        return True  # outside the cluster: no policy of ours applies there
    isolating = selecting(policies, pod, direction)
    if not isolating:
        return True
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(
        _peers_match(rule.get(peers_key), other, policy["metadata"].get("namespace"))
        and _ports_match(rule.get("ports"), destination, port, protocol)
        for policy in isolating
        for rule in policy["spec"].get(rules_key) or []
    )


def _policy_types(policy: Obj) -> list[str]:
    spec = policy["spec"]
    declared: list[str] | None = spec.get("policyTypes")
    if declared is not None:
        return declared
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def _peers_match(peers: list[Obj] | None, other: Peer, policy_namespace: str | None) -> bool:
    if not peers:
        return True  # no `from`/`to`: every peer
    return any(_peer_matches(peer, other, policy_namespace) for peer in peers)


def _peer_matches(peer: Obj, other: Peer, policy_namespace: str | None) -> bool:
    if "ipBlock" in peer:
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(excluded) for excluded in block.get("except", [])
        )
    if not other.is_pod:
        return False  # selectors name pods only
    namespaces = peer.get("namespaceSelector")
    if namespaces is None:
        in_namespace = other.namespace == policy_namespace
    else:
        in_namespace = _selects(namespaces, {"kubernetes.io/metadata.name": other.namespace or ""})
    pods = peer.get("podSelector")
    return in_namespace and (pods is None or _selects(pods, other.labels))


def _ports_match(ports: list[Obj] | None, destination: Peer, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            wanted = destination.ports.get(wanted)  # a named port: the destination pod's
        if wanted == port:
            return True
    return False


def _selects(selector: Obj, labels: Labels) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
