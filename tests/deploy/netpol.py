"""A small evaluator of Kubernetes NetworkPolicies over rendered manifests.

`allowed(policies, source, destination, port, protocol)` answers what the NetworkPolicy API specifies:
a connection passes when the source's egress and the destination's ingress both allow it; a pod that no
policy of a type selects is not isolated for that type. Only the app's namespace has policies here, so
pods elsewhere (ingress controller, Prometheus, DNS) are unrestricted on their own side. One
conservative choice: an `ipBlock` is also matched against pod IPs, as several CNIs do, so a policy that
admits "0.0.0.0/0" is treated as admitting every pod.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from tests.deploy.manifests import Obj, selects


@dataclass(frozen=True)
class Peer:
    """A pod (namespace + labels + named ports) or, with namespace None, an address outside the cluster."""

    name: str
    ip: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None


def namespace_labels(namespace: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": namespace}


def _in_block(ip: str, block: dict[str, Any]) -> bool:
    address = ipaddress.ip_address(ip)
    network = ipaddress.ip_network(block["cidr"])
    if address.version != network.version or address not in network:
        return False
    return not any(address in ipaddress.ip_network(e) for e in block.get("except", []))


def _peer_matches(rule_peer: Obj, peer: Peer, policy_namespace: str) -> bool:
    if not rule_peer:
        return True  # a rule without to/from: every peer
    if "ipBlock" in rule_peer:
        return _in_block(peer.ip, rule_peer["ipBlock"])
    if not peer.is_pod:
        return False
    assert peer.namespace is not None
    if "namespaceSelector" in rule_peer:
        if not selects(rule_peer["namespaceSelector"], namespace_labels(peer.namespace)):
            return False
    elif peer.namespace != policy_namespace:
        return False
    return "podSelector" not in rule_peer or selects(rule_peer["podSelector"], peer.labels)


def _port_matches(rule_ports: list[Obj] | None, destination: Peer, port: int, protocol: str) -> bool:
    if not rule_ports:
        return True
    for entry in rule_ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            # A named port resolves against the destination pod's container ports only.
            if destination.ports.get(wanted) == port:
                return True
            continue
        if int(wanted) <= port <= int(entry.get("endPort") or wanted):
            return True
    return False


def _selecting(policies: list[Obj], pod: Peer, kind: str) -> list[Obj]:
    return [
        p
        for p in policies
        if p["metadata"].get("namespace") == pod.namespace
        and kind in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"], pod.labels)
    ]


# Per policy type: the rule list in a policy's spec, and the key naming the peers at the other end.
_RULES_AND_PEERS = {"Egress": ("egress", "to"), "Ingress": ("ingress", "from")}


def _lets_through(
    policies: list[Obj], pod: Peer, kind: str, other: Peer, destination: Peer, port: int, protocol: str
) -> bool:
    """Whether the `kind` policies selecting `pod` (when none does, everything goes) allow traffic with `other`
    to `destination`'s `port`."""
    selecting = _selecting(policies, pod, kind)
    rules_key, peers_key = _RULES_AND_PEERS[kind]
    return not selecting or any(
        any(_peer_matches(peer, other, p["metadata"]["namespace"]) for peer in rule.get(peers_key, [{}]) or [{}])
        and _port_matches(rule.get("ports"), destination, port, protocol)
        for p in selecting
        for rule in p["spec"].get(rules_key, [])
    )


def allowed(policies: list[Obj], source: Peer, destination: Peer, port: int, protocol: str = "TCP") -> bool:
    """Whether `source` may open a connection to `destination`'s `port`: the source's egress policies and the
    destination's ingress ones must both let it (a peer outside the cluster has no policies of its own)."""
    leaves = not source.is_pod or _lets_through(policies, source, "Egress", destination, destination, port, protocol)
    arrives = not destination.is_pod or _lets_through(
        policies, destination, "Ingress", source, destination, port, protocol
    )
    return leaves and arrives
