"""The background worker's Deployment as rendered in base, dev and prod: its probes (run here against a real
health file), resources, securityContext, the wait for migrations, its uploads storage (the same as the
app's: the PVC in dev, S3 in prod), and every network flow it needs and must not have."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.manifests import Obj, containers, find, one, selects
from tests.deploy.netpol import allowed
from tests.deploy.test_network_flows import (
    IMDS,
    INGRESS_CONTROLLER,
    INTERNET,
    KUBE_DNS,
    PROMETHEUS,
    S3,
    STRAY,
    pods,
    policies,
    postgres_server,
)

WORKER = "financetracker-worker"


def worker_of(objs: list[Obj]) -> tuple[Obj, Obj, Obj]:
    deployment = one(objs, "Deployment", WORKER)
    template = deployment["spec"]["template"]
    (container,) = template["spec"]["containers"]
    return deployment, template, container


def env_of(container: Obj) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_the_worker_runs_the_worker_command_with_no_port(target: tuple[str, list[Obj]]) -> None:
    _name, objs = target
    _deployment, template, container = worker_of(objs)
    assert container["command"] == ["python", "manage.py", "run_worker"]
    assert "ports" not in container
    assert template["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    # No Service sends it traffic.
    for service in find(objs, "Service"):
        assert not selects(service["spec"].get("selector", {}), template["metadata"]["labels"]), service["metadata"]
    # Long enough for the task in hand to finish after SIGTERM.
    assert template["spec"]["terminationGracePeriodSeconds"] >= 300


def test_the_worker_is_hardened_like_the_app(target: tuple[str, list[Obj]]) -> None:
    _name, objs = target
    _deployment, template, _container = worker_of(objs)
    spec = template["spec"]
    assert spec["securityContext"]["runAsUser"] == 10001 and spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    account = one(objs, "ServiceAccount", spec["serviceAccountName"])
    assert account["metadata"]["name"] == WORKER and account["automountServiceAccountToken"] is False
    for container in containers(template):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
        assert context["runAsUser"] == 10001 and context["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
        assert container["resources"]["limits"]["cpu"] and container["resources"]["limits"]["memory"]


def test_the_worker_waits_for_the_migrations_the_app_applies(target: tuple[str, list[Obj]]) -> None:
    _name, objs = target
    _deployment, template, _container = worker_of(objs)
    (init,) = template["spec"]["initContainers"]
    assert "migrate --check" in " ".join(init["args"])
    assert init["envFrom"] == [{"configMapRef": {"name": init["envFrom"][0]["configMapRef"]["name"]}}]
    assert init["envFrom"][0]["configMapRef"]["name"].startswith("financetracker-config")


def test_the_worker_has_a_disruption_budget(target: tuple[str, list[Obj]]) -> None:
    _name, objs = target
    _deployment, template, _container = worker_of(objs)
    budgets = [
        p for p in find(objs, "PodDisruptionBudget") if selects(p["spec"]["selector"], template["metadata"]["labels"])
    ]
    assert [b["metadata"]["name"] for b in budgets] == [WORKER]


def _probe(command: list[str], health: Path) -> int:
    script = command[2].replace("/tmp/worker-health", str(health))
    return subprocess.run([sys.executable, "-c", script], check=False).returncode


def test_the_probes_read_the_health_file_the_worker_writes(renders, tmp_path: Path) -> None:
    from uploads.management.commands.run_worker import write_health

    objs, _ = renders["base"]
    _deployment, _template, container = worker_of(objs)
    assert env_of(container)["WORKER_HEALTH_PATH"] == "/tmp/worker-health"
    probes = {kind: container[kind]["exec"]["command"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert all(command[:2] == ["python", "-c"] for command in probes.values())
    health = tmp_path / "worker-health"

    write_health(health, "ok")
    assert {kind: _probe(command, health) for kind, command in probes.items()} == {
        "startupProbe": 0,
        "readinessProbe": 0,
        "livenessProbe": 0,
    }
    write_health(health, "database-unreachable")  # not ready, but alive: no restart for a database outage
    assert _probe(probes["readinessProbe"], health) != 0
    assert _probe(probes["livenessProbe"], health) == 0
    old = time.time() - 600  # the health thread stopped beating
    health.write_text(f"ok {old:.0f}\n")
    os.utime(health, (old, old))
    assert _probe(probes["readinessProbe"], health) != 0
    assert _probe(probes["livenessProbe"], health) != 0
    health.unlink()
    assert _probe(probes["startupProbe"], health) != 0


def test_the_worker_reads_uploads_where_the_app_keeps_them(renders) -> None:
    dev, _ = renders["dev"]
    app_template = one(dev, "Deployment", "financetracker")["spec"]["template"]
    deployment, template, container = worker_of(dev)

    def claim(spec: Obj) -> str:
        (volume,) = [v for v in spec["volumes"] if v["name"] == "uploads"]
        return volume["persistentVolumeClaim"]["claimName"]

    assert claim(template["spec"]) == claim(app_template["spec"]) == "uploads"
    assert any(m["mountPath"] == "/uploads" and m["name"] == "uploads" for m in container["volumeMounts"])
    # ReadWriteOnce: the worker runs on the app's node, and neither surges onto another.
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    (required,) = template["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required["topologyKey"] == "kubernetes.io/hostname"
    assert selects(required["labelSelector"], app_template["metadata"]["labels"])

    prod, _ = renders["prod"]
    _deployment, template, container = worker_of(prod)
    assert template["metadata"]["labels"]["financetracker.io/object-storage-client"] == "true"
    assert not any("persistentVolumeClaim" in v for v in template["spec"]["volumes"])
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/var/run/secrets/financetracker-db" in mounts  # CloudNativePG's application password


@pytest.mark.parametrize("port", [8000, 80, 443, 5432])
def test_nothing_reaches_the_worker(target: tuple[str, list[Obj]], port: int) -> None:
    _name, objs = target
    net, cluster = policies(objs), pods(objs)
    worker = cluster[WORKER]
    for source in (INGRESS_CONTROLLER, PROMETHEUS, STRAY, INTERNET, cluster["financetracker"]):
        assert not allowed(net, source, worker, port), f"{source.name} -> worker:{port}"


def test_the_worker_reaches_postgres_dns_and_its_uploads_storage_only(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    net, cluster = policies(objs), pods(objs)
    worker = cluster[WORKER]
    assert allowed(net, worker, postgres_server(objs), 5432, "TCP")
    assert allowed(net, worker, KUBE_DNS, 53, "UDP") and allowed(net, worker, KUBE_DNS, 53, "TCP")
    assert allowed(net, worker, S3, 443, "TCP") == (name == "prod")  # uploads-s3 in prod only
    for destination, port in [
        (cluster["redis"], 6379),  # it uses no cache
        (cluster["financetracker"], 8000),
        (INTERNET, 80),
        (IMDS, 80),
    ]:
        assert not allowed(net, worker, destination, port), f"worker -> {destination.name}:{port}"
