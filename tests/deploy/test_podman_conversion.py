"""deploy/podman/kube2podman.py over the real dev render (no podman needed): what deploy/podman-play.sh
plays is the render with only the conversions deploy/README.md lists, and any new workload is picked up."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import KUSTOMIZE, Obj, render

ROOT = Path(__file__).resolve().parents[2]
CONVERTER = ROOT / "deploy" / "podman" / "kube2podman.py"


def convert(objs: list[Obj], out: Path) -> tuple[dict[str, Any], dict[str, list[Obj]]]:
    source = out / "render.yaml"
    source.write_text(yaml.safe_dump_all(objs))
    subprocess.run([sys.executable, str(CONVERTER), str(source), str(out / "conv")], check=True)
    plan = json.loads((out / "conv" / "plan.json").read_text())
    files = {w["name"]: list(yaml.safe_load_all(Path(w["file"]).read_text())) for w in plan["workloads"]}
    return plan, files


@pytest.fixture(scope="module")
def dev() -> list[Obj]:
    objs, _ = render(KUSTOMIZE / "overlays" / "dev")
    return objs


def pod_spec(docs: list[Obj]) -> Obj:
    (workload,) = [d for d in docs if d["kind"] in ("Pod", "Deployment")]
    return workload["spec"]["template"]["spec"] if workload["kind"] == "Deployment" else workload["spec"]


def test_every_workload_is_played_with_podman_compatible_fields(dev: list[Obj], tmp_path: Path) -> None:
    plan, files = convert(dev, tmp_path)
    sources = {w["source"] for w in plan["workloads"]}
    expected = {
        f"{o['kind']}/{o['metadata']['name']}" for o in dev if o["kind"] in ("Deployment", "StatefulSet", "CronJob")
    }
    assert sources == expected
    for name, docs in files.items():
        spec = pod_spec(docs)
        assert "initContainers" not in spec and spec["restartPolicy"] == "Never", name
        for container in spec["containers"]:
            assert "@sha256:" not in container["image"], name
            assert "envFrom" not in container and "ports" not in container, name
            assert not {"livenessProbe", "readinessProbe", "startupProbe"} & container.keys(), name
            for var in container.get("env", []):
                assert "$(" not in str(var.get("value", "")), (name, var)
                assert "status.podIP" not in json.dumps(var), (name, var)
        for volume in spec["volumes"]:
            assert not {"secret", "configMap", "ephemeral"} & volume.keys(), (name, volume)
    kinds = {d["object"].split("/")[0] for d in plan["dropped"]}
    assert "NetworkPolicy" in kinds and "Ingress" in kinds


def test_env_keeps_kubernetes_precedence_and_expansion(dev: list[Obj], tmp_path: Path) -> None:
    plan, files = convert(dev, tmp_path)
    (app,) = [w for w in plan["workloads"] if w["source"] == "Deployment/financetracker"]
    (container,) = [c for c in pod_spec(files["financetracker"])["containers"] if c["name"] == "app"]
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert len(env) == len(container["env"]), "one entry per name"
    # env wins over envFrom, and $(ALLOWED_HOSTS),$(POD_IP) expands to the ConfigMap's hosts plus the pod IP.
    assert env["ALLOWED_HOSTS"].endswith(f",{app['ip']},[{app['ip']}]")
    assert env["ALLOWED_HOSTS"].startswith("finance.localtest.me,")
    assert env["TMPDIR"] == "/var/spool/financetracker"


def test_secret_files_are_written_as_the_kubelet_writes_them(dev: list[Obj], tmp_path: Path) -> None:
    _, files = convert(dev, tmp_path)
    spec = pod_spec(files["postgres-0"])
    (passwords,) = [v for v in spec["volumes"] if v["name"] == "passwords"]
    directory = Path(passwords["hostPath"]["path"])
    assert sorted(p.name for p in directory.iterdir()) == ["DATABASE_PASSWORD", "POSTGRES_PASSWORD"]
    password = directory / "POSTGRES_PASSWORD"
    (secret,) = [o for o in dev if o["kind"] == "Secret"]
    # The value itself, not podman 4.3's base64 text.
    assert password.read_text() == base64.b64decode(secret["data"]["POSTGRES_PASSWORD"]).decode()
    assert stat.S_IMODE(password.stat().st_mode) == 0o440
    if os.geteuid() == 0:
        assert password.stat().st_gid == spec["securityContext"]["fsGroup"]
    (initdb,) = [v for v in spec["volumes"] if v["name"] == "initdb"]
    script = Path(initdb["hostPath"]["path"]) / "10-financetracker-role.sh"
    assert stat.S_IMODE(script.stat().st_mode) == 0o555


def test_services_resolve_to_the_pods_they_select(dev: list[Obj], tmp_path: Path) -> None:
    plan, files = convert(dev, tmp_path)
    ips = {w["source"]: w["ip"] for w in plan["workloads"]}
    aliases = {h: a["ip"] for a in pod_spec(files["financetracker"])["hostAliases"] for h in a["hostnames"]}
    assert aliases["postgres"] == aliases["postgres.finance-tracker.svc.cluster.local"] == ips["StatefulSet/postgres"]
    assert aliases["redis"] == ips["Deployment/redis"]
    assert aliases["postgres-0.postgres-headless"] == ips["StatefulSet/postgres"]
    assert len(set(ips.values())) == len(ips), "one IP per pod"


def test_native_sidecars_and_init_containers_keep_their_order(dev: list[Obj], tmp_path: Path) -> None:
    plan, _ = convert(dev, tmp_path)
    (restore,) = [w for w in plan["workloads"] if w["source"] == "CronJob/postgres-restore-test"]
    assert [(s["name"], s["role"]) for s in restore["steps"]] == [
        ("scratch-postgres", "sidecar"),
        ("restore", "init"),
        ("check-ledger", "main"),
    ]
    assert "startupProbe" in restore["steps"][0]["probes"]


def test_the_import_worker_deployment_is_played_and_probed_like_the_app(dev: list[Obj], tmp_path: Path) -> None:
    """The background-import worker is a Deployment of its own: the converter plays it (no special case),
    waits for migrations first, and runs its exec probes."""
    plan, files = convert(dev, tmp_path)
    (played,) = [w for w in plan["workloads"] if w["source"] == "Deployment/financetracker-worker"]
    assert [s["name"] for s in played["steps"]] == ["wait-for-migrations", "worker"]
    worker = played["steps"][1]
    assert worker["role"] == "main"
    assert "readinessProbe" in worker["probes"] and "exec" in worker["probes"]["readinessProbe"]
    assert pod_spec(files["financetracker-worker"])["hostAliases"]
