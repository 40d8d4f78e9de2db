"""The defects of issue #16 that a rendered manifest can show, each as a rule over `kubectl kustomize`
output. Flows between pods are in test_network_flows.py, the backup scripts run for real in
test_backup_scripts.py, the role SQL in test_postgres_roles.py."""

from __future__ import annotations

import re

import pytest

from tests.deploy.manifests import (
    KUSTOMIZE,
    Obj,
    config_map,
    config_map_file,
    container_named,
    containers,
    env_of,
    find,
    one,
    pod_template,
    render_with_components,
    volume_named,
    workloads,
)

APP = ("Deployment", "financetracker")
MIB = 1024 * 1024
DIGEST = re.compile(r"^[\w.\-/]+:[\w.\-]+@sha256:[0-9a-f]{64}$")


def quantity_bytes(value: str) -> int:
    units = {"Ki": 1024, "Mi": MIB, "Gi": 1024 * MIB, "Ti": 1024 * 1024 * MIB}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return int(float(value[: -len(suffix)]) * factor)
    return int(value)


def cpu_cores(value: str) -> float:
    return float(value[:-1]) / 1000 if value.endswith("m") else float(value)


def pg_setting(conf: str, name: str) -> str:
    match = re.search(rf"^{name}\s*=\s*'?([^'\n#]*?)'?\s*(#.*)?$", conf, re.M)
    assert match, f"{name} not in postgresql.conf"
    return match.group(1).strip()


def app_spec(objs: list[Obj]) -> Obj:
    return one(objs, *APP)["spec"]["template"]


# --- uploads: spooling and S3 reads -----------------------------------------------------------------


def test_upload_bodies_spool_to_a_volume_sized_for_concurrent_imports(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    config = config_map(objs)
    template = app_spec(objs)
    app = container_named(template, "app")
    spool_dir = config["FILE_UPLOAD_TEMP_DIR"]
    mounts = {m["mountPath"]: m["name"] for m in app["volumeMounts"]}
    assert spool_dir in mounts and not spool_dir.startswith("/tmp"), spool_dir
    # S3 reads spill through Python's tempfile: TMPDIR is the same volume.
    assert env_of(app)["TMPDIR"] == spool_dir
    volume = volume_named(template, mounts[spool_dir])
    # A claim per pod, not node ephemeral storage: filling it fails a request instead of evicting the pod.
    claim = volume["ephemeral"]["volumeClaimTemplate"]["spec"]
    size = quantity_bytes(claim["resources"]["requests"]["storage"])
    concurrent = int(config["GUNICORN_WORKERS"]) * int(config["GUNICORN_THREADS"])
    import_max = 200 * MIB  # IMPORT_MAX_BYTES default; an upload plus its S3 read spill each
    assert size >= concurrent * import_max * 2, f"spool of {size} bytes < {concurrent} x 2 x 200 MiB"


def test_s3_reads_spill_to_disk_instead_of_memory(renders: dict[str, tuple[list[Obj], str]]) -> None:
    prod, _ = renders["prod"]
    config = config_map(prod)
    assert config["STORAGE_BACKEND"] == "s3"
    assert 0 < int(config["S3_MAX_MEMORY_SIZE"]) <= 16 * MIB


def test_settings_read_the_spool_and_spill_toggles() -> None:
    settings = (KUSTOMIZE.parents[1] / "financetracker" / "settings.py").read_text()
    assert 'FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR")' in settings
    assert '"max_memory_size": env_int("S3_MAX_MEMORY_SIZE"' in settings


# --- the app is not the database superuser ----------------------------------------------------------


def test_the_app_connects_as_a_non_superuser_role_that_owns_the_database(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    config = config_map(objs)
    user = re.match(r"postgres://([^:@/]+)@", config["DATABASE_URL"])
    assert user and user.group(1) == "financetracker"
    if name == "prod":
        return  # CloudNativePG: see test_cloudnativepg.py
    postgres = one(objs, "StatefulSet", "postgres")["spec"]["template"]
    env = env_of(container_named(postgres, "postgres"))
    # The image's bootstrap superuser is POSTGRES_USER: never the app's role.
    assert env["POSTGRES_USER"] == "postgres" != user.group(1)
    mounts = {m["mountPath"]: m["name"] for m in container_named(postgres, "postgres")["volumeMounts"]}
    initdb = volume_named(postgres, mounts["/docker-entrypoint-initdb.d"])
    hook = config_map_file(objs, initdb["configMap"]["name"].rsplit("-", 1)[0], "10-financetracker-role.sh")
    assert "roles.sql" in hook and "DATABASE_PASSWORD" in hook
    roles = config_map_file(objs, "postgres-roles", "roles.sql")
    assert "NOSUPERUSER NOCREATEDB NOCREATEROLE" in roles
    assert 'ALTER DATABASE :"app_db" OWNER TO :"app_role"' in roles


def test_no_app_container_can_read_the_superuser_password(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for obj, template in workloads(objs):
        images = {c["image"] for c in containers(template)}
        if not any("financetracker" in image.split("/")[-1] for image in images):
            continue
        for volume in template["spec"].get("volumes", []):
            secret = volume.get("secret")
            if secret:
                keys = {item["key"] for item in secret.get("items", [])}
                assert secret.get("items"), f"{obj['metadata']['name']}: whole Secret mounted"
                assert "POSTGRES_PASSWORD" not in keys, obj["metadata"]["name"]


def test_password_rotation_has_a_job_that_alters_the_role(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    if name == "prod":
        return  # CloudNativePG reconciles the managed role's password from its Secret
    roles_job = one(objs, "CronJob", "postgres-roles")
    assert roles_job["spec"]["suspend"] is True  # a template for `kubectl create job --from`, never scheduled
    template = pod_template(roles_job)
    assert template is not None
    script = " ".join(container_named(template, "roles")["args"])
    assert "roles.sql" in script and "app_password" in script
    assert "PASSWORD :'app_password'" in config_map_file(objs, "postgres-roles", "roles.sql")
    readme = (KUSTOMIZE.parent / "README.md").read_text()
    assert "--from=cronjob/postgres-roles" in readme


# --- PostgreSQL: /dev/shm, tuning, timeouts, connections --------------------------------------------


def postgres_conf(objs: list[Obj]) -> str:
    return config_map_file(objs, "postgres-config", "postgresql.conf")


def test_postgres_has_shared_memory_and_a_tuned_config(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    if name == "prod":
        return
    template = one(objs, "StatefulSet", "postgres")["spec"]["template"]
    postgres = container_named(template, "postgres")
    mounts = {m["mountPath"]: m["name"] for m in postgres["volumeMounts"]}
    shm = volume_named(template, mounts["/dev/shm"])["emptyDir"]
    conf = postgres_conf(objs)
    assert shm["medium"] == "Memory"
    assert quantity_bytes(shm["sizeLimit"]) > quantity_bytes(pg_setting(conf, "shared_buffers").replace("MB", "Mi"))
    assert postgres["args"] == ["-c", "config_file=/etc/postgresql/postgresql.conf"]
    assert "/etc/postgresql" in mounts
    limit = quantity_bytes(postgres["resources"]["limits"]["memory"])
    shared = quantity_bytes(pg_setting(conf, "shared_buffers").replace("MB", "Mi"))
    assert limit // 8 <= shared <= limit // 2
    assert pg_setting(conf, "listen_addresses") == "*"


def test_postgres_times_out_runaway_statements_and_idle_transactions(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    if name == "prod":
        return
    conf = postgres_conf(objs)
    assert pg_setting(conf, "idle_in_transaction_session_timeout") not in {"0", ""}
    roles = config_map_file(objs, "postgres-roles", "roles.sql")
    assert re.search(r"SET statement_timeout = '\d+s'", roles)
    assert re.search(r"SET idle_in_transaction_session_timeout = '\d+s'", roles)
    migrate = (KUSTOMIZE.parent / "docker" / "migrate_with_lock.py").read_text()
    assert "SET statement_timeout = 0" in migrate


def max_app_pods(objs: list[Obj]) -> int:
    deployment = one(objs, *APP)
    hpas = [h for h in find(objs, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == "financetracker"]
    replicas = hpas[0]["spec"]["maxReplicas"] if hpas else deployment["spec"].get("replicas", 1)
    strategy = deployment["spec"]["strategy"]
    surge = strategy.get("rollingUpdate", {}).get("maxSurge", 0) if strategy["type"] == "RollingUpdate" else 0
    return int(replicas) + int(surge)


def test_database_connections_fit_under_max_connections(target: tuple[str, list[Obj]]) -> None:
    name, objs = target
    if name == "prod":
        return  # behind PgBouncer: test_cloudnativepg.py sizes the pooler
    config = config_map(objs)
    per_pod = int(config["GUNICORN_WORKERS"]) * int(config["GUNICORN_THREADS"]) + 1  # + migrate init
    jobs = len(find(objs, "CronJob"))  # each job holds at most one connection at a time
    conf = postgres_conf(objs)
    usable = int(pg_setting(conf, "max_connections")) - int(pg_setting(conf, "superuser_reserved_connections"))
    assert max_app_pods(objs) * per_pod + jobs <= usable


def test_gunicorn_workers_fit_the_cpu_limit(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    workers = int(config_map(objs)["GUNICORN_WORKERS"])
    cpu = cpu_cores(container_named(app_spec(objs), "app")["resources"]["limits"]["cpu"])
    assert workers <= max(1, int(2 * cpu)), f"{workers} workers under {cpu} CPU"


# --- images --------------------------------------------------------------------------------------------


def test_third_party_images_are_pinned_by_digest_and_current(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    for obj, template in workloads(objs):
        for container in containers(template):
            image = container["image"]
            assert container["imagePullPolicy"] == "IfNotPresent", f"{obj['metadata']['name']}/{container['name']}"
            if "financetracker" in image:
                continue  # our own image: the release pipeline pins its digest (deploy/README.md)
            assert DIGEST.match(image), image
            name, _, tag = image.split("@")[0].partition(":")
            if name.endswith("postgres"):
                assert tuple(int(x) for x in tag.split("-")[0].split(".")) >= (17, 11), image
            if name.endswith("redis"):
                assert tuple(int(x) for x in tag.split("-")[0].split(".")) >= (7, 4, 8), image


def test_redis_requires_a_password_that_the_app_sends(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    redis = one(objs, "Deployment", "redis")["spec"]["template"]
    container = container_named(redis, "redis")
    script = container["args"][0]
    assert "requirepass" in script and "REDIS_PASSWORD" in script
    conf = config_map_file(objs, "redis-config", "redis.conf")
    assert "include /run/redis/auth.conf" in conf and "protected-mode yes" in conf
    assert "REDIS_PASSWORD" in " ".join(container["readinessProbe"]["exec"]["command"])
    assert config_map(objs)["REDIS_PASSWORD_FILE"].endswith("/REDIS_PASSWORD")
    settings = (KUSTOMIZE.parents[1] / "financetracker" / "settings.py").read_text()
    assert '"PASSWORD": env_str("REDIS_PASSWORD")' in settings


# --- jobs -----------------------------------------------------------------------------------------------


def test_post_scheduled_waits_for_migrations(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    template = pod_template(one(objs, "CronJob", "post-scheduled"))
    assert template is not None
    (wait,) = template["spec"]["initContainers"]
    assert "migrate --check" in " ".join(wait["args"])
    assert wait["image"] == container_named(template, "post-scheduled")["image"]


def test_backups_are_copied_off_the_cluster(renders: dict[str, tuple[list[Obj], str]]) -> None:
    prod, _ = renders["prod"]
    template = pod_template(one(prod, "CronJob", "postgres-backup"))
    assert template is not None
    assert container_named(template, "upload")["command"] == ["python", "/scripts/upload.py"]
    assert template["metadata"]["labels"]["financetracker.io/object-storage-client"] == "true"
    assert config_map(prod)["BACKUP_S3_BUCKET"]


def test_a_restore_test_runs_check_ledger_on_a_scratch_database(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    cron = one(objs, "CronJob", "postgres-restore-test")
    template = pod_template(cron)
    assert template is not None and not cron["spec"].get("suspend")
    scratch, restore = template["spec"]["initContainers"]
    assert scratch["restartPolicy"] == "Always"  # native sidecar
    assert "listen_addresses=127.0.0.1" in scratch["args"]
    assert restore["command"] == ["/bin/bash", "/scripts/restore-test.sh"]
    check = container_named(template, "check-ledger")
    assert check["command"] == ["python", "manage.py", "check_ledger"]
    assert env_of(check)["DATABASE_URL"].startswith("postgres://postgres@127.0.0.1:5432/")
    script = config_map_file(objs, "postgres-backup-scripts", "restore-test.sh")
    assert "diff" in script and "balances" in script


def test_backup_scripts_prune_first_with_maxdepth(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    script = config_map_file(objs, "postgres-backup-scripts", "backup.sh")
    assert script.index("-delete") < script.index("pg_dump --format")
    for line in script.splitlines():
        if line.startswith("find "):
            assert "-maxdepth 1" in line, line


# --- dev rollouts ---------------------------------------------------------------------------------------


def test_dev_rollouts_cannot_wedge_on_the_rwo_uploads_volume(renders: dict[str, tuple[list[Obj], str]]) -> None:
    dev, _ = renders["dev"]
    pvc = one(dev, "PersistentVolumeClaim", "uploads")
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert one(dev, *APP)["spec"]["strategy"] == {"type": "Recreate"}


# --- Lows -----------------------------------------------------------------------------------------------


def test_allowed_hosts_accepts_an_ipv6_pod_ip(target: tuple[str, list[Obj]]) -> None:
    _, objs = target
    value = env_of(container_named(app_spec(objs), "app"))["ALLOWED_HOSTS"]
    assert "[$(POD_IP)]" in value.split(",")


def test_external_secret_uses_the_served_api_version() -> None:
    objs = render_with_components("base", ["external-secrets"])
    (secret,) = find(objs, "ExternalSecret")
    assert secret["apiVersion"] == "external-secrets.io/v1"


def test_load_balancer_policy_does_not_admit_cluster_pods() -> None:
    objs = render_with_components("base", ["loadbalancer"])
    policy = one(objs, "NetworkPolicy", "app-from-load-balancer")
    (rule,) = policy["spec"]["ingress"]
    for peer in rule["from"]:
        assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} <= set(peer["ipBlock"]["except"])


def test_service_monitor_follows_the_generated_secret_name_in_dev() -> None:
    objs = render_with_components("dev", ["monitoring"])
    (secret,) = find(objs, "Secret")
    (monitor,) = find(objs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["authorization"]["credentials"]["name"] == secret["metadata"]["name"]
    assert secret["metadata"]["name"] != "financetracker-secrets"  # hash-suffixed by the generator


@pytest.mark.parametrize("name", ["base", "dev", "prod"])
def test_every_alert_links_a_runbook_and_needs_no_missing_exporter(name: str) -> None:
    rules = (KUSTOMIZE / "components" / "alerts" / "prometheusrule.yaml").read_text()
    runbooks = (KUSTOMIZE.parent / "RUNBOOKS.md").read_text().lower()
    alerts = re.findall(r"- alert: (\w+)", rules)
    assert len(alerts) == rules.count("runbook_url:")
    for alert in alerts:
        assert f"## {alert.lower()}" in runbooks, alert
    # No exporter for PostgreSQL or Redis is deployed: their metrics must not be relied on.
    assert not re.search(r"\b(pg_up|redis_up|pg_stat_\w+)\b", rules)
    assert "absent(" in rules


def test_every_secret_file_a_container_is_told_to_read_is_mounted(target: tuple[str, list[Obj]]) -> None:
    """settings.py raises at start when a *_FILE names a missing file: every app container must mount
    each file its configuration points at (or blank the variable, as the restore test does)."""
    _, objs = target
    config = config_map(objs)
    for obj, template in workloads(objs):
        volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
        for container in containers(template):
            if not any(
                ref.get("configMapRef", {}).get("name", "").startswith("financetracker-config")
                for ref in container.get("envFrom", [])
            ):
                continue
            if container.get("command", [None])[0] == "python" and container["command"][1].startswith("/scripts/"):
                continue  # backup/upload.py reads its own variables, not the Django settings
            env = {**config, **env_of(container)}
            for key, path in env.items():
                if not key.endswith("_FILE") or not path:
                    continue
                directory, _, filename = path.rpartition("/")
                mounts = [m for m in container["volumeMounts"] if m["mountPath"] == directory]
                where = f"{obj['metadata']['name']}/{container['name']}: {key}={path}"
                assert mounts, f"{where} is not mounted"
                secret = volumes[mounts[0]["name"]]["secret"]
                assert filename in {item["path"] for item in secret.get("items", [])}, where


@pytest.mark.parametrize("setting", ["FILE_UPLOAD_TEMP_DIR", "PROMETHEUS_MULTIPROC_DIR"])
def test_every_django_container_has_the_directories_its_config_names(
    target: tuple[str, list[Obj]], setting: str
) -> None:
    """The ConfigMap names directories every Django process needs: Django's system checks (run by every
    manage.py command) fail with files.E001 when FILE_UPLOAD_TEMP_DIR does not exist, and the metrics
    modules open files in PROMETHEUS_MULTIPROC_DIR on import. Each container that reads the ConfigMap
    mounts them or clears the setting. Found by deploy/podman-play.sh: the post-scheduled Job's
    wait-for-migrations looped until its deadline, and the restore test's check_ledger failed."""
    _, objs = target
    spool_dir = config_map(objs).get(setting)
    assert spool_dir, f"the ConfigMap names no {setting}: every Django container needs it"
    checked = 0
    for obj, template in workloads(objs):
        for container in containers(template):
            reads_config = any(
                (source.get("configMapRef") or {}).get("name", "").startswith("financetracker-config")
                for source in container.get("envFrom") or []
            )
            command = " ".join(container.get("command", []) + container.get("args", []))
            if not reads_config or ("manage.py" not in command and "gunicorn" not in command and command):
                continue
            checked += 1
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            value = env.get(setting, spool_dir)
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            where = f"{obj['kind']}/{obj['metadata']['name']} container {container['name']}"
            assert not value or value in mounts, f"{where}: {setting}={value} is not mounted"
    assert checked >= 4
