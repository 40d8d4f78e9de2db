"""Helpers for the deployment tests: render Kustomize directories and walk the rendered objects."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
KUSTOMIZE = REPO / "deploy" / "kustomize"
TARGETS = {
    "base": KUSTOMIZE / "base",
    "dev": KUSTOMIZE / "overlays" / "dev",
    "prod": KUSTOMIZE / "overlays" / "prod",
}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

Obj = dict[str, Any]


def ensure_dev_secrets() -> None:
    """The dev overlay reads a git-ignored secrets.env; CI renders with the checked-in example."""
    real = KUSTOMIZE / "overlays" / "dev" / "secrets.env"
    if not real.exists():
        shutil.copyfile(real.with_name("secrets.env.example"), real)


def render(directory: Path) -> tuple[list[Obj], str]:
    """kubectl kustomize DIR -> (objects, stderr)."""
    result = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc], result.stderr


def pod_template(obj: Obj) -> Obj | None:
    kind = obj["kind"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    if kind in WORKLOAD_KINDS:
        return obj["spec"]["template"]
    return None


def workloads(objs: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    for obj in objs:
        template = pod_template(obj)
        if template is not None:
            yield obj, template


def containers(template: Obj, *, init: bool = True) -> Iterator[Obj]:
    spec = template["spec"]
    yield from spec.get("containers", [])
    if init:
        yield from spec.get("initContainers", [])


def find(objs: list[Obj], kind: str, name: str | None = None) -> list[Obj]:
    return [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objs: list[Obj], kind: str, name: str) -> Obj:
    found = find(objs, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def config_map(objs: list[Obj], prefix: str = "financetracker-config") -> dict[str, str]:
    (cm,) = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(prefix)]
    return cm["data"]


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels/matchExpressions) or a plain Service selector against labels."""
    if not selector:
        return True
    match_labels = (
        selector.get("matchLabels", {}) if ("matchLabels" in selector or "matchExpressions" in selector) else selector
    )
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in selector.get("matchExpressions", []) if "matchExpressions" in selector else []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def render_with_components(parent: str, components: list[str]) -> list[Obj]:
    """Render `base` or an overlay (by name: dev, prod) plus extra components, the way deploy/check.sh does:
    a copy of the overlay at the same depth (its ../../ paths still resolve) with the components added."""
    import tempfile

    source = KUSTOMIZE / "base" if parent == "base" else KUSTOMIZE / "overlays" / parent
    with tempfile.TemporaryDirectory(dir=KUSTOMIZE / "overlays", prefix=".test-") as tmp:
        target = Path(tmp)
        if parent == "base":
            lines = [
                "apiVersion: kustomize.config.k8s.io/v1beta1",
                "kind: Kustomization",
                "namespace: finance-tracker",
                "resources:",
                "  - ../../base",
            ]
            lines += ["components:"] + [f"  - ../../components/{c}" for c in components]
            (target / "kustomization.yaml").write_text("\n".join(lines) + "\n")
        else:
            shutil.copytree(source, target, dirs_exist_ok=True)
            text = (target / "kustomization.yaml").read_text()
            extra = "".join(f"\n  - ../../components/{c}" for c in components)
            text = (
                text.replace("components:", "components:" + extra, 1)
                if "components:" in text
                else (text + "components:" + extra + "\n")
            )
            (target / "kustomization.yaml").write_text(text)
        objs, stderr = render(target)
    assert not stderr.strip(), stderr
    return objs


def env_of(container: Obj) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def container_named(template: Obj, name: str) -> Obj:
    for container in containers(template):
        if container["name"] == name:
            return container
    raise AssertionError(f"no container {name}")


def volume_named(template: Obj, name: str) -> Obj:
    for volume in template["spec"].get("volumes", []):
        if volume["name"] == name:
            return volume
    raise AssertionError(f"no volume {name}")


def config_map_file(objs: list[Obj], prefix: str, key: str) -> str:
    (cm,) = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(prefix + "-")]
    return str(cm["data"][key])
