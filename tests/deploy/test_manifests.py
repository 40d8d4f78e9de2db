"""What kube-score and kube-linter would catch, checked over the rendered Kustomize output.

Every test renders base, overlays/dev and overlays/prod with `kubectl kustomize` (no cluster, no
database) and inspects the objects.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from tests.deploy.manifests import (
    KUSTOMIZE,
    TARGETS,
    Obj,
    config_map,
    containers,
    find,
    one,
    pod_template,
    selects,
    workloads,
)

APP = ("Deployment", "financetracker")
ROOT = Path(__file__).resolve().parents[2]


def app_container(objs: list[Obj]) -> Obj:
    deployment = one(objs, *APP)
    (container,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "app"]
    return container


# --- rendering --------------------------------------------------------------------------------------


def test_it_renders_every_target_without_warnings(renders: dict[str, tuple[list[Obj], str]]) -> None:
    for name in TARGETS:
        objs, stderr = renders[name]
        assert objs, name
        assert stderr.strip() == "", f"{name}: kustomize warned:\n{stderr}"


def test_kustomizations_use_v5_idiom_only() -> None:
    deprecated = re.compile(r"^\s*(commonLabels|patchesStrategicMerge|patchesJson6902|vars|bases):", re.M)
    for path in KUSTOMIZE.rglob("kustomization.yaml"):
        assert not deprecated.search(path.read_text()), f"{path} uses a deprecated kustomize field"


def test_everything_lives_in_the_finance_tracker_namespace(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for obj in objs:
        if obj["kind"] == "Namespace":
            continue
        assert obj["metadata"].get("namespace") == "finance-tracker", f"{obj['kind']}/{obj['metadata']['name']}"


def test_namespace_enforces_the_restricted_pod_security_standard(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    namespace = one(objs, "Namespace", "finance-tracker")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


# --- selectors and ports ----------------------------------------------------------------------------


def test_workload_selectors_match_their_pod_templates(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for obj, template in workloads(objs):
        selector = obj["spec"].get("selector")
        if obj["kind"] in {"Job", "CronJob"}:
            continue
        assert selector, f"{obj['kind']}/{obj['metadata']['name']} has no selector"
        assert selects(selector, template["metadata"]["labels"]), obj["metadata"]["name"]


def test_services_select_pods_and_target_existing_named_ports(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for service in find(objs, "Service"):
        selector = service["spec"]["selector"]
        matched = [t for _, t in workloads(objs) if selects(selector, t["metadata"].get("labels", {}))]
        assert matched, f"Service/{service['metadata']['name']} selects no pod template"
        for port in service["spec"]["ports"]:
            target_port = port["targetPort"]
            assert isinstance(target_port, str), f"Service/{service['metadata']['name']}: use a named targetPort"
            for template in matched:
                names = {p.get("name") for c in containers(template, init=False) for p in c.get("ports", [])}
                assert target_port in names, f"Service/{service['metadata']['name']} -> missing port {target_port}"


def test_disruption_budgets_and_autoscalers_point_at_real_workloads(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for pdb in find(objs, "PodDisruptionBudget"):
        assert any(selects(pdb["spec"]["selector"], t["metadata"]["labels"]) for _, t in workloads(objs))
    for hpa in find(objs, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        one(objs, ref["kind"], ref["name"])


def test_service_monitor_scrapes_the_named_http_port_at_metrics(renders: dict[str, tuple[list[Obj], str]]) -> None:
    objs, _ = renders["prod"]
    (monitor,) = find(objs, "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics"
    services = [
        s for s in find(objs, "Service") if selects(monitor["spec"]["selector"], s["metadata"].get("labels", {}))
    ]
    assert services and all(any(p["name"] == "http" for p in s["spec"]["ports"]) for s in services)


# --- network policies -------------------------------------------------------------------------------


def test_network_policies_deny_by_default_and_cover_every_pod(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    policies = find(objs, "NetworkPolicy")
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") and not p["spec"].get("egress")
    ]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    allows = [p for p in policies if p not in deny and p["spec"]["podSelector"]]
    # The restore test talks to its own scratch PostgreSQL on 127.0.0.1 and nothing else (DNS aside).
    isolated = {"postgres-restore-test"}
    for obj, template in workloads(objs):
        labels = template["metadata"]["labels"]
        if obj["metadata"]["name"] in isolated:
            assert not any(selects(p["spec"]["podSelector"], labels) for p in allows), obj["metadata"]["name"]
            continue
        assert any(selects(p["spec"]["podSelector"], labels) for p in allows), (
            f"{obj['kind']}/{obj['metadata']['name']}: no NetworkPolicy allows it anything"
        )


def test_every_pod_that_serves_a_port_has_an_ingress_rule(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    policies = [p for p in find(objs, "NetworkPolicy") if p["spec"].get("ingress")]
    for service in find(objs, "Service"):
        for _, template in workloads(objs):
            if selects(service["spec"]["selector"], template["metadata"]["labels"]):
                assert any(selects(p["spec"]["podSelector"], template["metadata"]["labels"]) for p in policies)


# --- replicas, rollout, probes ----------------------------------------------------------------------


def test_no_fixed_replicas_where_an_hpa_scales(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for hpa in find(objs, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        assert "replicas" not in one(objs, ref["kind"], ref["name"])["spec"]
        assert hpa["spec"]["minReplicas"] >= 2


def test_prod_autoscales_and_dev_runs_one_replica(renders: dict[str, tuple[list[Obj], str]]) -> None:
    prod, _ = renders["prod"]
    dev, _ = renders["dev"]
    assert find(prod, "HorizontalPodAutoscaler")
    assert one(dev, *APP)["spec"]["replicas"] == 1
    assert not find(dev, "HorizontalPodAutoscaler")


def test_app_rolls_out_without_losing_capacity(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    strategy = one(objs, *APP)["spec"]["strategy"]
    if name == "dev":
        # One replica on an RWO volume: a surge pod on another node could never attach it.
        assert strategy == {"type": "Recreate"}
        return
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_probes_differ_and_hit_health_endpoints(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for _obj, template in workloads(objs):
        for container in containers(template, init=False):
            if "livenessProbe" in container and "readinessProbe" in container:
                assert container["livenessProbe"] != container["readinessProbe"], container["name"]
    app = app_container(objs)
    assert app["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert app["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "startupProbe" in app


def test_probe_host_header_is_an_allowed_host(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    allowed = {h.strip() for h in config_map(objs)["ALLOWED_HOSTS"].split(",")}
    app = app_container(objs)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        headers = {h["name"].lower(): h["value"] for h in app[probe]["httpGet"].get("httpHeaders", [])}
        assert headers.get("host") in allowed, f"{probe} sends Host {headers.get('host')!r}, not in {allowed}"
    # Prometheus scrapes the pod IP: the container appends it to ALLOWED_HOSTS.
    env = {e["name"]: e for e in app.get("env", [])}
    assert "$(POD_IP)" in env["ALLOWED_HOSTS"]["value"]
    names = [e["name"] for e in app["env"]]
    assert names.index("POD_IP") < names.index("ALLOWED_HOSTS")


def test_shutdown_fits_in_the_termination_grace_period(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    spec = one(objs, *APP)["spec"]["template"]["spec"]
    app = app_container(objs)
    sleep = app["lifecycle"]["preStop"]["sleep"]["seconds"]
    graceful = int(config_map(objs).get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
    assert spec["terminationGracePeriodSeconds"] > sleep + graceful


def test_app_has_its_writable_tmp_and_prometheus_dir(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    assert config_map(objs)["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
    mounts = {m["mountPath"] for m in app_container(objs)["volumeMounts"]}
    assert {"/tmp", "/tmp/prometheus"} <= mounts


def test_migrations_run_under_an_advisory_lock_before_the_app(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    spec = one(objs, *APP)["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    assert init["command"] == ["python", "/app/migrate_with_lock.py"]
    assert init["image"] == app_container(objs)["image"]


# --- resources, security, images --------------------------------------------------------------------


def test_every_container_has_requests_and_limits(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    for obj, template in workloads(objs):
        for container in containers(template):
            resources = container.get("resources", {})
            for section in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    assert resource in resources.get(section, {}), (
                        f"{obj['metadata']['name']}/{container['name']}: no {section}.{resource}"
                    )
    app = app_container(objs)
    assert app["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}
    if name == "prod":  # CloudNativePG: the Cluster's resources (test_cloudnativepg.py)
        return
    postgres = one(objs, "StatefulSet", "postgres")["spec"]["template"]["spec"]["containers"][0]
    assert postgres["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}


def test_every_container_is_locked_down(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for obj, template in workloads(objs):
        pod = template["spec"]
        where = obj["metadata"]["name"]
        assert pod.get("automountServiceAccountToken") is False, where
        assert pod.get("serviceAccountName") not in (None, "default"), where
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        for container in containers(template):
            sc = container["securityContext"]
            seccomp = sc.get("seccompProfile") or pod["securityContext"].get("seccompProfile")
            assert seccomp == {"type": "RuntimeDefault"}, where
            assert sc["runAsNonRoot"] is True, where
            assert sc["runAsUser"] > 10000, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert not sc["capabilities"].get("add"), where
    app = one(objs, *APP)["spec"]["template"]["spec"]
    assert app["securityContext"]["runAsUser"] == 10001 and app["securityContext"]["runAsGroup"] == 10001


def test_service_accounts_mount_no_token(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    accounts = find(objs, "ServiceAccount")
    assert accounts
    assert all(sa.get("automountServiceAccountToken") is False for sa in accounts)
    assert not find(objs, "RoleBinding") and not find(objs, "ClusterRoleBinding")


def test_images_are_pinned(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for _, template in workloads(objs):
        for container in containers(template):
            image = container["image"]
            name, _, tag = image.rpartition(":")
            assert "@sha256:" in image or (name and tag and tag != "latest" and "/" not in tag), image


def test_secrets_reach_the_app_as_files(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    config = config_map(objs)
    assert config["SECRET_KEY_FILE"].startswith("/var/run/secrets/financetracker/")
    assert config["DATABASE_PASSWORD_FILE"].startswith("/var/run/secrets/financetracker")
    assert config["REDIS_PASSWORD_FILE"].startswith("/var/run/secrets/financetracker/")
    assert "SECRET_KEY" not in config and "DATABASE_PASSWORD" not in config
    # The URLs in the ConfigMap carry no password (user@host, never user:password@host).
    for key in ("DATABASE_URL", "BACKUP_DATABASE_URL", "REDIS_URL"):
        assert not re.search(r"//[^/@]*:[^/@]*@", config[key]), f"{key} carries a password"
    for _, template in workloads(objs):
        for container in containers(template):
            for env in container.get("env", []):
                assert "secretKeyRef" not in env.get("valueFrom", {}), container["name"]


# --- storage, data, jobs ----------------------------------------------------------------------------


def test_postgres_statefulset_keeps_data_in_a_subdirectory_of_its_volume(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    if name == "prod":  # CloudNativePG
        return
    sts = one(objs, "StatefulSet", "postgres")
    assert sts["spec"]["serviceName"] == one(objs, "Service", "postgres-headless")["metadata"]["name"]
    assert one(objs, "Service", "postgres-headless")["spec"]["clusterIP"] == "None"
    assert one(objs, "Service", "postgres")["spec"]["type"] == "ClusterIP"
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    container = sts["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"])
    assert env["PGDATA"].startswith(mount + "/") and env["PGDATA"] != mount
    assert "POSTGRES_PASSWORD_FILE" in env and "POSTGRES_PASSWORD" not in env
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"


def test_uploads_storage_fits_the_replica_count(renders: dict[str, tuple[list[Obj], str]]) -> None:
    dev, _ = renders["dev"]
    prod, _ = renders["prod"]
    pvc = one(dev, "PersistentVolumeClaim", "uploads")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
    volumes = {v["name"]: v for v in one(dev, *APP)["spec"]["template"]["spec"]["volumes"]}
    assert volumes["uploads"] == {"name": "uploads", "persistentVolumeClaim": {"claimName": "uploads"}}
    assert config_map(prod)["STORAGE_BACKEND"] == "s3"
    assert not find(prod, "PersistentVolumeClaim", "uploads")
    labels = one(prod, *APP)["spec"]["template"]["metadata"]["labels"]
    assert labels["financetracker.io/object-storage-client"] == "true"
    egress = one(prod, "NetworkPolicy", "object-storage-clients-egress")["spec"]["egress"]
    assert any(p["port"] == 443 for rule in egress for p in rule["ports"])


def test_redis_is_bounded_and_pinned(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    redis = one(objs, "Deployment", "redis")["spec"]["template"]["spec"]["containers"][0]
    assert "memory" in redis["resources"]["limits"]
    conf = next(o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("redis-config"))
    assert re.search(r"^maxmemory \d+mb$", conf["data"]["redis.conf"], re.M)


def test_cronjobs_post_scheduled_and_back_up(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    post, backup = one(objs, "CronJob", "post-scheduled"), one(objs, "CronJob", "postgres-backup")
    post_pod, backup_pod = pod_template(post), pod_template(backup)
    assert post_pod is not None and backup_pod is not None
    assert post_pod["spec"]["containers"][0]["command"] == ["python", "manage.py", "post_scheduled"]
    (dump,) = backup_pod["spec"]["initContainers"]
    assert dump["command"] == ["/bin/bash", "/scripts/backup.sh"]
    script = next(o for o in objs if o["metadata"]["name"].startswith("postgres-backup-scripts-"))["data"]["backup.sh"]
    assert "pg_dump" in script and "-delete" in script
    for cron in (post, backup):
        assert cron["spec"]["concurrencyPolicy"] == "Forbid"


def test_ingress_terminates_tls_and_allows_large_uploads(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    ingress = one(objs, "Ingress", "financetracker")
    assert ingress["spec"]["tls"][0]["secretName"]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"].endswith("m")


@pytest.mark.parametrize("name", ["prod"])
def test_prod_uses_an_existing_secret(renders: dict[str, tuple[list[Obj], str]], name: str) -> None:
    objs, _ = renders[name]
    assert not find(objs, "Secret")
    volumes = {v["name"]: v for v in one(objs, *APP)["spec"]["template"]["spec"]["volumes"]}
    assert volumes["secrets"]["secret"]["secretName"] == "financetracker-secrets"


def test_gunicorn_runs_with_the_tuned_settings_the_manifests_give_it(
    target: tuple[str, list[Obj]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn.conf.py read with the rendered ConfigMap's environment: the tuning of bench/README.md."""
    _, objs = target
    for key, value in config_map(objs).items():
        monkeypatch.setenv(key, value)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # gthread, preferring to listen while it has a free thread (financetracker/gunicorn_worker.py).
    assert conf["worker_class"] == "financetracker.gunicorn_worker.BalancedThreadWorker" and conf["threads"] >= 2
    # One shared listening socket: a per-worker one (reuse_port) resets its queued connections when the
    # worker stops (a recycle, a SIGTERM).
    assert conf["reuse_port"] is False
    assert conf["keepalive"] > 60  # longer than ingress-nginx's upstream keep-alive
    # Recycling rare enough to cost nothing measurable, with jitter so workers never restart together.
    assert conf["max_requests"] >= 50_000 and 0 < conf["max_requests_jitter"] <= conf["max_requests"] // 5
    assert callable(conf["post_worker_init"])  # gc.freeze() after the app is loaded
