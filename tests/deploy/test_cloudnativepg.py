"""Prod's PostgreSQL on CloudNativePG (components/cloudnative-pg): the rendered Cluster, ObjectStore,
ScheduledBackup and Pooler are valid against the operator's own CRD schemas (tests/deploy/crds, see
its README for provenance), and together give three instances, a non-superuser owner, WAL archiving
with base backups, and a transaction-mode PgBouncer the app's settings match."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.manifests import Obj, config_map, container_named, env_of, find, one

CRDS = Path(__file__).parent / "crds"
CNPG_KINDS = {
    ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io_clusters.yaml",
    ("postgresql.cnpg.io/v1", "Pooler"): "postgresql.cnpg.io_poolers.yaml",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "postgresql.cnpg.io_scheduledbackups.yaml",
    ("barmancloud.cnpg.io/v1", "ObjectStore"): "barmancloud.cnpg.io_objectstores.yaml",
}


def strict(schema: Any) -> Any:
    """The CRD's structural schema, with unknown fields refused the way the API server prunes/rejects them
    (kubectl apply --validate=strict): every object with `properties` gets additionalProperties false."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    # The CSafeLoader: the Cluster and Pooler CRDs are half a megabyte each.
    crd = yaml.load((CRDS / CNPG_KINDS[(api_version, kind)]).read_text(), Loader=yaml.CSafeLoader)
    version = api_version.split("/")[1]
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = copy.deepcopy(served["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(strict(schema))


@pytest.fixture(scope="module")
def prod(renders: dict[str, tuple[list[Obj], str]]) -> list[Obj]:
    return renders["prod"][0]


def test_every_cloudnativepg_resource_is_valid_against_the_operator_crds(prod: list[Obj]) -> None:
    found = [o for o in prod if (o["apiVersion"], o["kind"]) in CNPG_KINDS]
    assert {o["kind"] for o in found} == {"Cluster", "Pooler", "ScheduledBackup", "ObjectStore"}
    for obj in found:
        errors = sorted(crd_validator(obj["apiVersion"], obj["kind"]).iter_errors(obj), key=str)
        assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
        )


def test_the_schema_check_catches_a_misspelt_field(prod: list[Obj]) -> None:
    cluster = copy.deepcopy(one(prod, "Cluster", "financetracker-db"))
    cluster["spec"]["instance"] = 3
    assert not crd_validator("postgresql.cnpg.io/v1", "Cluster").is_valid(cluster)


def test_prod_runs_three_instances_with_a_non_superuser_owner(prod: list[Obj]) -> None:
    assert not find(prod, "StatefulSet")
    spec = one(prod, "Cluster", "financetracker-db")["spec"]
    assert spec["instances"] == 3
    assert spec["affinity"]["podAntiAffinityType"] == "required"
    assert spec["enableSuperuserAccess"] is False
    initdb = spec["bootstrap"]["initdb"]
    assert (initdb["database"], initdb["owner"]) == ("financetracker", "financetracker")
    (role,) = spec["managed"]["roles"]
    assert role["name"] == "financetracker" and role["superuser"] is False and role["createrole"] is False
    assert role["passwordSecret"]["name"] == initdb["secret"]["name"]  # one Secret: rotation is one edit
    assert any("statement_timeout" in sql for sql in initdb["postInitApplicationSQL"])
    assert spec["postgresql"]["parameters"]["idle_in_transaction_session_timeout"]
    assert "@sha256:" in spec["imageName"] and spec["imagePullPolicy"] == "IfNotPresent"


def test_wal_is_archived_and_base_backups_are_scheduled_to_object_storage(prod: list[Obj]) -> None:
    cluster = one(prod, "Cluster", "financetracker-db")
    (plugin,) = cluster["spec"]["plugins"]
    assert plugin["name"] == "barman-cloud.cloudnative-pg.io" and plugin["isWALArchiver"] is True
    store = one(prod, "ObjectStore", plugin["parameters"]["barmanObjectName"])
    assert store["spec"]["configuration"]["destinationPath"].startswith("s3://")
    assert store["spec"]["retentionPolicy"].endswith("d")
    (scheduled,) = find(prod, "ScheduledBackup")
    assert scheduled["spec"]["cluster"]["name"] == "financetracker-db"
    assert scheduled["spec"]["method"] == "plugin"
    assert scheduled["spec"]["pluginConfiguration"]["name"] == plugin["name"]
    assert len(scheduled["spec"]["schedule"].split()) == 6  # the operator's cron has seconds first
    assert cluster["spec"]["inheritedMetadata"]["labels"]["financetracker.io/object-storage-client"] == "true"


def test_the_app_goes_through_a_transaction_mode_pooler_with_matching_settings(prod: list[Obj]) -> None:
    pooler = one(prod, "Pooler", "financetracker-db-pooler-rw")
    assert pooler["spec"]["pgbouncer"]["poolMode"] == "transaction" and pooler["spec"]["type"] == "rw"
    config = config_map(prod)
    assert config["DATABASE_URL"] == "postgres://financetracker@financetracker-db-pooler-rw:5432/financetracker"
    assert config["DATABASE_CONN_MAX_AGE"] == "0"
    assert config["DATABASE_DISABLE_SERVER_SIDE_CURSORS"] == "1"
    # Session-level work bypasses PgBouncer: the migrations' advisory lock and pg_dump.
    deployment = one(prod, "Deployment", "financetracker")["spec"]["template"]
    migrate = container_named(deployment, "migrate")
    (url,) = [e for e in migrate["env"] if e["name"] == "DATABASE_URL"]
    assert config[url["valueFrom"]["configMapKeyRef"]["key"]].split("@")[1].startswith("financetracker-db-rw:")
    assert config["BACKUP_DATABASE_URL"].split("@")[1].startswith("financetracker-db-rw:")
    # The password the app sends is the operator's application Secret, mounted where the settings read it.
    mounts = {m["mountPath"]: m["name"] for m in container_named(deployment, "app")["volumeMounts"]}
    directory, _, key = config["DATABASE_PASSWORD_FILE"].rpartition("/")
    volume = next(v for v in deployment["spec"]["volumes"] if v["name"] == mounts[directory])
    assert volume["secret"]["secretName"] == "financetracker-db-app"
    assert {"key": "password", "path": key} in volume["secret"]["items"]
    backup = one(prod, "CronJob", "postgres-backup")["spec"]["jobTemplate"]["spec"]["template"]
    assert env_of(container_named(backup, "pg-dump"))["DATABASE_PASSWORD_FILE"] == config["DATABASE_PASSWORD_FILE"]


def test_pooler_and_server_connection_limits_fit(prod: list[Obj]) -> None:
    config = config_map(prod)
    hpa = one(prod, "HorizontalPodAutoscaler", "financetracker")
    threads = int(config["GUNICORN_WORKERS"]) * int(config["GUNICORN_THREADS"])
    clients = (hpa["spec"]["maxReplicas"] + 1) * threads + len(find(prod, "CronJob"))
    pooler = one(prod, "Pooler", "financetracker-db-pooler-rw")["spec"]
    parameters = pooler["pgbouncer"]["parameters"]
    assert clients <= int(parameters["max_client_conn"])
    server = pooler["instances"] * int(parameters["default_pool_size"])
    direct = hpa["spec"]["maxReplicas"] + 1 + 2  # migrate init containers and pg_dump bypass the pooler
    max_connections = int(
        one(prod, "Cluster", "financetracker-db")["spec"]["postgresql"]["parameters"]["max_connections"]
    )
    assert server + direct <= max_connections - 3 - 10  # superuser_reserved 3, the operator's own ~10


def test_settings_honour_the_pooler_toggles() -> None:
    settings = (Path(__file__).parents[2] / "financetracker" / "settings.py").read_text()
    assert 'env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS"' in settings
    assert 'conn_max_age=env_int("DATABASE_CONN_MAX_AGE"' in settings


def test_the_documented_point_in_time_recovery_cluster_is_valid(prod: list[Obj]) -> None:
    readme = (Path(__file__).parents[2] / "deploy" / "README.md").read_text()
    section = readme[readme.index("### Point-in-time recovery") :]
    block = section[section.index("```yaml") + len("```yaml") : section.index("```", section.index("```yaml") + 7)]
    image = one(prod, "Cluster", "financetracker-db")["spec"]["imageName"]
    recovery = yaml.safe_load(block.replace("<the same imageName as financetracker-db>", image))
    errors = [e.message for e in crd_validator("postgresql.cnpg.io/v1", "Cluster").iter_errors(recovery)]
    assert not errors, errors
    target = recovery["spec"]["bootstrap"]["recovery"]
    assert target["recoveryTarget"]["targetTime"] and target["source"] == "origin"
    (origin,) = recovery["spec"]["externalClusters"]
    assert origin["plugin"]["parameters"]["barmanObjectName"] == "financetracker-pitr"
    # The recovered cluster archives under a new server name: it never overwrites the origin's WAL.
    assert recovery["spec"]["plugins"][0]["parameters"]["serverName"] != origin["plugin"]["parameters"]["serverName"]
