"""Every flow financetracker needs, and the flows it must not allow, evaluated over the rendered
NetworkPolicies (tests/deploy/netpol.py) of base, dev and prod and of base with the loadbalancer component.
Pods of the app's namespace come from the rendered workloads (their labels and named ports); the other
parties are the well-known pods of a cluster (ingress-nginx's controller, Prometheus, kube-dns,
cert-manager's HTTP-01 solver, which cert-manager creates in the Ingress's namespace)."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import Obj, containers, find, render_with_components, workloads
from tests.deploy.netpol import Peer, allowed

NS = "finance-tracker"
INGRESS_CONTROLLER = Peer(
    "ingress-controller",
    "10.244.9.10",
    "ingress-nginx",
    {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
)
INGRESS_NAMESPACE_OTHER = Peer(
    "ingress-admission-job", "10.244.9.11", "ingress-nginx", {"app.kubernetes.io/component": "admission-webhook"}
)
PROMETHEUS = Peer("prometheus", "10.244.8.10", "monitoring", {"app.kubernetes.io/name": "prometheus"})
GRAFANA = Peer("grafana", "10.244.8.11", "monitoring", {"app.kubernetes.io/name": "grafana"})
KUBE_DNS = Peer("kube-dns", "10.244.0.10", "kube-system", {"k8s-app": "kube-dns"})
SOLVER = Peer("acme-solver", "10.244.1.50", NS, {"acme.cert-manager.io/http01-solver": "true"}, {"http": 8089})
STRAY = Peer("debug-pod", "10.244.1.99", NS, {"run": "debug"})
OTHER_NAMESPACE = Peer("other-app", "10.244.7.7", "default", {"app.kubernetes.io/name": "other"})
INTERNET = Peer("internet-client", "203.0.113.10")
S3 = Peer("s3-endpoint", "52.218.0.1")
PRIVATE_HOST = Peer("private-host", "10.0.0.5")
NODELOCAL_DNS = Peer("nodelocal-dns", "169.254.20.10")
POD_IDENTITY = Peer("eks-pod-identity-agent", "169.254.170.23")
IMDS = Peer("instance-metadata", "169.254.169.254")


def pods(objs: list[Obj]) -> dict[str, Peer]:
    """One Peer per rendered workload, named after it (pod IPs in the cluster's private range)."""
    found: dict[str, Peer] = {}
    for index, (obj, template) in enumerate(workloads(objs)):
        ports = {p["name"]: p["containerPort"] for c in containers(template) for p in c.get("ports", []) if "name" in p}
        found[obj["metadata"]["name"]] = Peer(
            obj["metadata"]["name"], f"10.244.1.{index + 1}", NS, template["metadata"]["labels"], ports
        )
    # CloudNativePG's pods, with the labels and ports the operator gives them.
    for cluster in find(objs, "Cluster"):
        name = cluster["metadata"]["name"]
        labels = {"cnpg.io/cluster": name, "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": "primary"}
        labels |= cluster["spec"].get("inheritedMetadata", {}).get("labels", {})
        ports = {"postgresql": 5432, "status": 8000, "metrics": 9187}
        found[name] = Peer(name, "10.244.2.1", NS, labels, ports)
        found[name + "-replica"] = Peer(
            name + "-replica", "10.244.2.2", NS, labels | {"cnpg.io/instanceRole": "replica"}, ports
        )
    for pooler in find(objs, "Pooler"):
        name = pooler["metadata"]["name"]
        labels = {"cnpg.io/poolerName": name, "cnpg.io/podRole": "pooler"} | pooler["spec"]["template"]["metadata"][
            "labels"
        ]
        found[name] = Peer(name, "10.244.2.10", NS, labels, {"pgbouncer": 5432, "metrics": 9127})
    return found


def policies(objs: list[Obj]) -> list[Obj]:
    return find(objs, "NetworkPolicy")


def postgres_server(objs: list[Obj]) -> Peer:
    """The pod the app's DATABASE_URL reaches: postgres-0, or CloudNativePG's PgBouncer pooler in prod."""
    cluster = pods(objs)
    return cluster.get("financetracker-db-pooler-rw") or cluster["postgres"]


def postgres_primary(objs: list[Obj]) -> Peer:
    """What backups dump: postgres-0, or the CloudNativePG instances (pg_dump never goes through PgBouncer)."""
    cluster = pods(objs)
    return cluster.get("financetracker-db") or cluster["postgres"]


def test_every_flow_the_app_needs_is_allowed(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    net, cluster = policies(objs), pods(objs)
    app, redis, database = cluster["financetracker"], cluster["redis"], postgres_server(objs)
    need = [
        (INGRESS_CONTROLLER, app, 8000, "TCP"),
        (INGRESS_CONTROLLER, SOLVER, 8089, "TCP"),  # cert-manager HTTP-01 challenge
        (PROMETHEUS, app, 8000, "TCP"),
        (app, database, 5432, "TCP"),
        (app, redis, 6379, "TCP"),
        (app, KUBE_DNS, 53, "UDP"),
        (app, KUBE_DNS, 53, "TCP"),
        (app, NODELOCAL_DNS, 53, "UDP"),
        (cluster["post-scheduled"], database, 5432, "TCP"),
        (cluster["post-scheduled"], redis, 6379, "TCP"),
        (cluster["postgres-backup"], postgres_primary(objs), 5432, "TCP"),
        (cluster["postgres-backup"], S3, 443, "TCP"),
        (cluster["postgres-backup"], POD_IDENTITY, 80, "TCP"),
        (cluster["postgres-restore-test"], KUBE_DNS, 53, "UDP"),
        # The background worker (imports): PostgreSQL and DNS; S3 below with the app's (tests/deploy/test_worker.py).
        (cluster["financetracker-worker"], database, 5432, "TCP"),
        (cluster["financetracker-worker"], KUBE_DNS, 53, "UDP"),
    ]
    if "postgres-roles" in cluster:
        need.append((cluster["postgres-roles"], cluster["postgres"], 5432, "TCP"))
    if name == "prod":
        need.append((app, S3, 443, "TCP"))  # uploads-s3
        need.append((cluster["financetracker-worker"], S3, 443, "TCP"))
    for source, destination, port, protocol in need:
        assert allowed(net, source, destination, port, protocol), (
            f"{source.name} -> {destination.name}:{port}/{protocol}"
        )


def test_flows_that_must_not_happen_are_denied(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    net, cluster = policies(objs), pods(objs)
    app, redis, database = cluster["financetracker"], cluster["redis"], postgres_server(objs)
    deny = [
        (INGRESS_NAMESPACE_OTHER, app, 8000),  # the controller's pods, not its whole namespace
        (INTERNET, app, 8000),  # only through the ingress controller
        (GRAFANA, app, 8000),
        (STRAY, database, 5432),  # an unlabelled pod of the namespace
        (STRAY, redis, 6379),
        (STRAY, app, 8000),
        (OTHER_NAMESPACE, database, 5432),
        (PROMETHEUS, database, 5432),
        (INGRESS_CONTROLLER, database, 5432),
        (INGRESS_CONTROLLER, app, 9000),  # only the http port
        (app, database, 22),
        (app, IMDS, 80),  # no instance credentials for the app
        (app, PRIVATE_HOST, 443),
        (app, INTERNET, 80),
        (redis, database, 5432),  # the cache talks to no one
        (redis, INTERNET, 443),
        (database, INTERNET, 443),
        (SOLVER, app, 8000),  # the solver answers; it never calls out
        (SOLVER, INTERNET, 443),
        (cluster["postgres-backup"], INTERNET, 80),
        (cluster["postgres-backup"], PRIVATE_HOST, 443),
        (cluster["postgres-backup"], redis, 6379),
        # The restore test must never reach the production database or the network.
        (cluster["postgres-restore-test"], database, 5432),
        (cluster["postgres-restore-test"], S3, 443),
        (cluster["postgres-restore-test"], INTERNET, 443),
        # The worker serves nothing and talks to PostgreSQL, DNS and its uploads storage only.
        (INGRESS_CONTROLLER, cluster["financetracker-worker"], 8000),
        (STRAY, cluster["financetracker-worker"], 8000),
        (cluster["financetracker-worker"], redis, 6379),
        (cluster["financetracker-worker"], INTERNET, 80),
        (cluster["financetracker-worker"], IMDS, 80),
    ]
    if name != "prod":
        deny.append((app, S3, 443))  # filesystem uploads: no object storage
        deny.append((cluster["financetracker-worker"], S3, 443))
    for source, destination, port in deny:
        assert not allowed(net, source, destination, port), f"{source.name} -> {destination.name}:{port} is allowed"


@pytest.fixture(scope="module")
def with_load_balancer() -> list[Obj]:
    return render_with_components("base", ["loadbalancer"])


CNPG_OPERATOR = Peer("cnpg-operator", "10.244.6.10", "cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"})
KUBERNETES_API = Peer("kubernetes-api", "10.0.0.1")


def test_cloudnativepg_flows_in_prod(renders: dict[str, tuple[list[Obj], str]]) -> None:
    objs, _ = renders["prod"]
    net, cluster = policies(objs), pods(objs)
    app, pooler = cluster["financetracker"], cluster["financetracker-db-pooler-rw"]
    primary, replica = cluster["financetracker-db"], cluster["financetracker-db-replica"]
    for source, destination, port in [
        (app, pooler, 5432),
        (app, primary, 5432),  # the migrate init container bypasses PgBouncer
        (pooler, primary, 5432),
        (replica, primary, 5432),  # streaming replication
        (primary, replica, 8000),
        (CNPG_OPERATOR, primary, 8000),  # the operator polls the instance manager
        (PROMETHEUS, primary, 9187),
        (PROMETHEUS, pooler, 9127),
        (primary, S3, 443),  # Barman Cloud: WAL and base backups
        (primary, KUBERNETES_API, 443),  # the instance manager
        (pooler, KUBERNETES_API, 443),
        (cluster["postgres-backup"], primary, 5432),
    ]:
        assert allowed(net, source, destination, port), f"{source.name} -> {destination.name}:{port}"
    for source, destination, port in [
        (STRAY, pooler, 5432),
        (STRAY, primary, 5432),
        (OTHER_NAMESPACE, primary, 5432),
        (app, primary, 8000),
        (INGRESS_CONTROLLER, pooler, 5432),
        (pooler, INTERNET, 443),
        (cluster["postgres-restore-test"], pooler, 5432),
        (cluster["redis"], primary, 5432),
    ]:
        assert not allowed(net, source, destination, port), f"{source.name} -> {destination.name}:{port} is allowed"


def test_the_load_balancer_admits_the_internet_but_not_cluster_pods(with_load_balancer: list[Obj]) -> None:
    net, cluster = policies(with_load_balancer), pods(with_load_balancer)
    app = cluster["financetracker"]
    assert allowed(net, INTERNET, app, 8000)
    # ipBlocks are matched against pod IPs too (several CNIs do): cluster pods stay out.
    assert not allowed(net, OTHER_NAMESPACE, app, 8000)
    assert not allowed(net, STRAY, app, 8000)
    assert not allowed(net, INTERNET, cluster["postgres"], 5432)


def test_the_evaluator_itself_denies_by_default_and_honours_named_ports() -> None:
    deny_all = {"metadata": {"name": "d", "namespace": NS}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    web = Peer("web", "10.244.1.1", NS, {"app": "web"}, {"http": 8000})
    assert allowed([], STRAY, web, 8000)  # no policy: not isolated
    assert not allowed([deny_all], STRAY, web, 8000)
    named = {
        "metadata": {"name": "n", "namespace": NS},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": "http"}]}],
        },
    }
    assert allowed([deny_all, named], STRAY, web, 8000)
    assert not allowed([deny_all, named], STRAY, web, 8001)
    assert not allowed([deny_all, named], OTHER_NAMESPACE, web, 8000)  # podSelector alone: same namespace
