"""Convert a rendered Kustomize overlay into what `podman kube play` (podman 4.3) can play.

Usage: kube2podman.py RENDER.yaml OUTDIR --subnet 10.89.177.0/24

Writes OUTDIR/volumes.yaml (every PersistentVolumeClaim, volumeClaimTemplates included), one
OUTDIR/<workload>.yaml per Deployment, StatefulSet replica and CronJob (each with every ConfigMap, since
kube play resolves ConfigMaps only from the file it plays), and OUTDIR/plan.json, which
deploy/podman-play.sh follows: pod and container names, static IPs, the order in which to start the
containers and the probes to wait for. Each conversion is listed in deploy/README.md ("Playing the dev
overlay with podman"); every Deployment, StatefulSet and CronJob of the render is converted, whatever
its name, so a new workload in the manifests is played without touching this file.
"""

from __future__ import annotations

import argparse
import base64
import copy
import ipaddress
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

PLAY_LABEL = "financetracker.io/podman-play"
# Kinds podman 4.3 has no equivalent for; what stands in for them (if anything) is in deploy/README.md.
DROPPED = {
    "Namespace": "one podman host is one namespace",
    "ServiceAccount": "no API server: no tokens (every pod sets automountServiceAccountToken: false anyway)",
    "NetworkPolicy": "not enforced by podman; tests/deploy/test_network_flows.py evaluates every flow",
    "PodDisruptionBudget": "no evictions on one host",
    "Ingress": "no ingress controller; the script talks to the app pod's IP",
    "HorizontalPodAutoscaler": "no metrics server; one replica",
    "ServiceMonitor": "no Prometheus Operator",
    "PrometheusRule": "no Prometheus Operator",
}
VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")

Doc = dict[str, Any]


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion (podman leaves it literal): defined names are replaced, $$ escapes."""

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return VAR_REF.sub(sub, value)


class Converter:
    def __init__(self, docs: list[Doc], subnet: str) -> None:
        self.docs = docs
        self.network = ipaddress.ip_network(subnet)
        self.hosts = self.network.hosts()
        next(self.hosts)  # .1 is the bridge's gateway
        self.namespace = next(
            (d["metadata"].get("namespace") for d in docs if d["metadata"].get("namespace")), "default"
        )
        self.configmaps: dict[str, Doc] = {}
        self.secret_names: dict[str, str] = {}
        self.claims: dict[str, Doc] = {}
        self.dropped: list[dict[str, str]] = []
        self.notes: list[str] = []
        self.workloads: list[dict[str, Any]] = []
        self.pod_volumes: dict[str, list[str]] = {}
        self.out = Path()

    # --- configuration ------------------------------------------------------------------------
    def config_objects(self) -> None:
        for doc in self.docs:
            kind, name = doc["kind"], doc["metadata"]["name"]
            if kind == "ConfigMap":
                self.configmaps[name] = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name},
                    "data": dict(doc.get("data") or {}),
                }
            elif kind == "Secret":
                # podman 4.3 plays a Secret, but its secret volumes contain the base64 text instead of
                # the value: the Secret becomes a ConfigMap with the decoded values (same keys).
                data = {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}
                data.update(doc.get("stringData") or {})
                converted = f"secret-{name}"
                self.secret_names[name] = converted
                self.configmaps[converted] = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": converted},
                    "data": data,
                }
            elif kind == "PersistentVolumeClaim":
                self.claims[name] = {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": name},
                    "spec": doc["spec"],
                }

    def keys(self, configmap: str) -> set[str]:
        return set(self.configmaps.get(configmap, {}).get("data", {}))

    # --- pods -----------------------------------------------------------------------------------
    def pod_spec(self, spec: Doc, ip: str, role: str, pod: str, where: str) -> tuple[Doc, list[dict[str, Any]]]:
        """The converted pod spec and the start plan of its containers, in the kubelet's order."""
        spec = copy.deepcopy(spec)
        steps: list[dict[str, Any]] = []
        containers: list[Doc] = []
        for kind, items in (("init", spec.pop("initContainers", None) or []), ("main", spec.get("containers") or [])):
            for container in items:
                step_role = kind
                if kind == "init" and container.pop("restartPolicy", None) == "Always":
                    step_role = "sidecar"  # a native sidecar: started, probed, left running
                probes = {
                    p: container.pop(p) for p in ("startupProbe", "readinessProbe", "livenessProbe") if p in container
                }
                self.container(container, ip, spec, where)
                # podman 4.3 publishes every containerPort on the host (5432 and 6379 are taken there):
                # the ports go; pods reach each other on the network, named ports stay in the plan.
                ports = {p["name"]: p["containerPort"] for p in container.pop("ports", []) if "name" in p}
                steps.append({"name": container["name"], "role": step_role, "probes": probes, "ports": ports})
                containers.append(container)
        spec["containers"] = containers
        # Init containers become ordinary containers started one by one by play.py (podman 4.3's own
        # init containers race with their removal here, and it has no native sidecars). restartPolicy
        # Never: a finished init container stays finished (play.py retries a failed one, as the kubelet
        # does), and a main container that exits fails the play instead of restarting unseen.
        spec["restartPolicy"] = "Never"
        fs_group = (spec.get("securityContext") or {}).get("fsGroup")
        renamed: dict[str, str] = {}
        volumes = []
        for volume in spec.get("volumes") or []:
            converted = self.volume(volume, pod, fs_group, where)
            renamed[volume["name"]] = converted["name"]
            volumes.append(converted)
        memory = {v["name"] for v in spec.get("volumes") or [] if (v.get("emptyDir") or {}).get("medium") == "Memory"}
        for container in containers:
            mounts = []
            for mount in container.get("volumeMounts") or []:
                if mount["name"] in memory and mount["mountPath"] == "/dev/shm":  # noqa: S108
                    # podman's own /dev/shm tmpfs stays (a volume over it is not writable here).
                    continue
                mounts.append({**mount, "name": renamed.get(mount["name"], mount["name"])})
            container["volumeMounts"] = mounts
        used = {m["name"] for c in containers for m in c["volumeMounts"]}
        spec["volumes"] = [v for v in volumes if v["name"] in used]
        self.pod_volumes[pod] = sorted(v["name"] for v in spec["volumes"] if "emptyDir" in v)
        return spec, steps

    def container(self, container: Doc, ip: str, spec: Doc, where: str) -> None:
        image = container["image"]
        if "@sha256:" in image:
            # A digest names a registry's manifest; the local stand-in has the tag only.
            container["image"] = image.split("@", 1)[0]
        env_values: dict[str, str] = {}
        for source in container.get("envFrom") or []:
            if "secretRef" in source:
                ref = source.pop("secretRef")
                source["configMapRef"] = {**ref, "name": self.secret_names.get(ref["name"], ref["name"])}
            name = source["configMapRef"]["name"]
            prefix = source.get("prefix", "")
            env_values.update({prefix + k: v for k, v in self.configmaps.get(name, {}).get("data", {}).items()})
        env_from = dict(env_values)
        for var in container.get("env") or []:
            value_from = var.get("valueFrom")
            if value_from and "fieldRef" in value_from and value_from["fieldRef"]["fieldPath"] == "status.podIP":
                # podman 4.3 refuses status.podIP: the pod's static IP is known, so it is the value.
                var.pop("valueFrom")
                var["value"] = ip
            elif value_from and "secretKeyRef" in value_from:
                ref = value_from.pop("secretKeyRef")
                value_from["configMapKeyRef"] = {**ref, "name": self.secret_names.get(ref["name"], ref["name"])}
            if value_from and "configMapKeyRef" in value_from:
                ref = value_from["configMapKeyRef"]
                if ref["key"] in self.keys(ref["name"]):
                    var.pop("valueFrom")
                    var["value"] = self.configmaps[ref["name"]]["data"][ref["key"]]
                elif not ref.get("optional"):
                    raise SystemExit(f"{where}: env {var['name']}: key {ref['key']} not in {ref['name']}")
            if "value" in var:
                var["value"] = expand(str(var["value"]), env_values)
                env_values[var["name"]] = var["value"]
        if container.get("envFrom"):
            # podman 4.3 lets envFrom win over env (Kubernetes: env wins, e.g. the app's ALLOWED_HOSTS
            # with its pod IP): envFrom becomes explicit env entries, placed before and not overriding env.
            own = {var["name"] for var in container.get("env") or []}
            inherited = [{"name": k, "value": v} for k, v in env_from.items() if k not in own]
            container["env"] = inherited + (container.get("env") or [])
            container.pop("envFrom")

    def volume(self, volume: Doc, pod: str, fs_group: int | None, where: str) -> Doc:
        volume = copy.deepcopy(volume)
        name = volume["name"]
        if "secret" in volume or "configMap" in volume:
            # podman 4.3 turns these into named volumes that take the image directory's mode (Debian's
            # /etc/redis is 2770: unreadable for UID 10003), ignore defaultMode and, for a Secret, hold
            # the base64 text. Instead the files are written here, as the kubelet writes them (items,
            # defaultMode, group fsGroup), and bind-mounted (hostPath).
            if "secret" in volume:
                source = volume.pop("secret")
                configmap = self.secret_names.get(source["secretName"], source["secretName"])
            else:
                source = volume.pop("configMap")
                configmap = source["name"]
            data = self.configmaps.get(configmap, {}).get("data")
            if data is None and not source.get("optional"):
                raise SystemExit(f"{where}: volume {name}: no ConfigMap or Secret {configmap}")
            data = data or {}
            items = source.get("items") or [{"key": k, "path": k} for k in sorted(data)]
            missing = [i["key"] for i in items if i["key"] not in data]
            if missing and not source.get("optional"):
                raise SystemExit(f"{where}: volume {name}: keys {missing} not in {configmap}")
            directory = self.out / "files" / pod / name
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o755)
            for item in items:
                if item["key"] not in data:
                    continue  # optional: true lets a key be absent, as in Kubernetes
                path = directory / item["path"]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(data[item["key"]])
                path.chmod(item.get("mode", source.get("defaultMode", 0o644)))
                if fs_group is not None:
                    os.chown(path, 0, fs_group)
            volume["hostPath"] = {"path": str(directory), "type": "Directory"}
            return volume
        if "ephemeral" in volume:
            # A generic ephemeral volume lives and dies with its pod: an emptyDir does the same here.
            volume.pop("ephemeral")
            volume["emptyDir"] = {}
        if "emptyDir" in volume:
            # podman 4.3 makes an emptyDir a named volume called after the pod's volume name, shared by
            # every pod using that name: renamed per pod (play.py removes them before and after).
            volume["emptyDir"] = {}
            volume["name"] = f"{pod}-{name}"
        return volume

    # --- workloads ------------------------------------------------------------------------------
    def add(self, name: str, source: str, role: str, kind: str, template: Doc, extra: Doc | None = None) -> None:
        ip = str(next(self.hosts))
        # podman names a Deployment's pod <name>-pod-0 (4.3) or <name>-pod (older): play.py resolves it.
        pod_name = f"{name}-pod-0" if kind == "Deployment" else name
        spec, steps = self.pod_spec(template["spec"], ip, role, pod_name, source)
        labels = {**(template.get("metadata", {}).get("labels") or {}), PLAY_LABEL: "true"}
        metadata = {"labels": labels}
        if kind == "Deployment":
            obj: Doc = {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": metadata, "spec": spec},
                },
            }
        else:
            obj = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "labels": labels},
                "spec": {**spec, **(extra or {})},
            }
        self.workloads.append(
            {
                "name": name,
                "source": source,
                "role": role,
                "pod": pod_name,
                "ip": ip,
                "labels": template.get("metadata", {}).get("labels") or {},
                "object": obj,
                "steps": [{**s, "container": f"{pod_name}-{s['name']}"} for s in steps],
            }
        )

    def workload_objects(self) -> None:
        for doc in self.docs:
            kind, name = doc["kind"], doc["metadata"]["name"]
            if kind == "Deployment":
                if (doc["spec"].get("replicas") or 1) > 1:
                    self.notes.append(f"Deployment/{name}: {doc['spec']['replicas']} replicas played as 1")
                self.add(name, f"Deployment/{name}", "service", "Deployment", doc["spec"]["template"])
            elif kind == "StatefulSet":
                # Not a kind podman plays: each replica becomes Pod <name>-<ordinal>, each claim template
                # the claim <template>-<name>-<ordinal>, as the StatefulSet controller names them.
                spec = doc["spec"]
                for ordinal in range(spec.get("replicas", 1)):
                    pod = f"{name}-{ordinal}"
                    template = copy.deepcopy(spec["template"])
                    volumes = template["spec"].setdefault("volumes", [])
                    for claim in spec.get("volumeClaimTemplates") or []:
                        claim_name = f"{claim['metadata']['name']}-{pod}"
                        self.claims[claim_name] = {
                            "apiVersion": "v1",
                            "kind": "PersistentVolumeClaim",
                            "metadata": {"name": claim_name},
                            "spec": claim["spec"],
                        }
                        volumes.append(
                            {"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}}
                        )
                    extra = {"hostname": pod, "subdomain": spec.get("serviceName", name)}
                    self.add(pod, f"StatefulSet/{name}", "service", "Pod", template, extra)
            elif kind == "CronJob":
                # No scheduler: the Job a CronJob would create (`kubectl create job --from=cronjob/…`),
                # played when the script wants it, suspended CronJobs included.
                template = doc["spec"]["jobTemplate"]["spec"]["template"]
                self.add(f"{name}-job", f"CronJob/{name}", "job", "Pod", template)
            elif kind == "Job":
                self.add(name, f"Job/{name}", "job", "Pod", doc["spec"]["template"])
            elif kind in DROPPED:
                self.dropped.append({"object": f"{kind}/{name}", "why": DROPPED[kind]})
            elif kind not in ("ConfigMap", "Secret", "PersistentVolumeClaim", "Service"):
                raise SystemExit(
                    f"{kind}/{name}: no conversion for this kind (add one to deploy/podman/kube2podman.py)"
                )

    def services(self) -> list[dict[str, Any]]:
        """Each Service name resolves (pod /etc/hosts) to the IP of the first long-running pod it selects."""
        aliases: list[dict[str, Any]] = []
        for doc in self.docs:
            if doc["kind"] != "Service":
                continue
            name = doc["metadata"]["name"]
            selector = doc["spec"].get("selector") or {}
            pods = [
                w
                for w in self.workloads
                if w["role"] == "service" and selector and selector.items() <= w["labels"].items()
            ]
            if not pods:
                self.notes.append(f"Service/{name}: selects no played pod")
                continue
            target = pods[0]
            ns = self.namespace
            names = [name, f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"]
            aliases.append({"ip": target["ip"], "hostnames": names})
            for port in doc["spec"].get("ports") or []:
                target_port = port.get("targetPort", port["port"])
                resolved = next(
                    (s["ports"].get(target_port) for s in target["steps"] if target_port in s["ports"]), target_port
                )
                if resolved != port["port"]:
                    self.notes.append(
                        f"Service/{name}: port {port['port']} -> {target_port} ({resolved}) is not remapped: "
                        f"clients of this play use {name}:{resolved}"
                    )
            for pod in pods:
                sub = pod["object"]["spec"].get("subdomain")
                if sub == name:
                    hostnames = [
                        f"{pod['pod']}.{name}",
                        f"{pod['pod']}.{name}.{ns}.svc",
                        f"{pod['pod']}.{name}.{ns}.svc.cluster.local",
                    ]
                    aliases.append({"ip": pod["ip"], "hostnames": hostnames})
        return aliases

    def write(self, out: Path) -> None:
        self.out = out
        self.config_objects()
        self.workload_objects()
        host_aliases = self.services()
        out.mkdir(parents=True, exist_ok=True)
        config = list(self.configmaps.values())
        (out / "volumes.yaml").write_text(yaml.safe_dump_all(list(self.claims.values()), sort_keys=False))
        plan: dict[str, Any] = {
            "volumes": sorted(self.claims),
            "workloads": [],
            "dropped": self.dropped,
            "notes": self.notes,
        }
        for workload in self.workloads:
            obj = workload.pop("object")
            spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else obj["spec"]
            spec["hostAliases"] = host_aliases
            path = out / f"{workload['name']}.yaml"
            path.write_text(yaml.safe_dump_all([*config, obj], sort_keys=False))
            path.chmod(0o600)  # holds the Secret's values
            plan["workloads"].append({**workload, "file": str(path), "empty_dirs": self.pod_volumes[workload["pod"]]})
        (out / "plan.json").write_text(json.dumps(plan, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("render", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--subnet", default="10.89.177.0/24")
    args = parser.parse_args()
    docs = [d for d in yaml.safe_load_all(args.render.read_text()) if d]
    Converter(docs, args.subnet).write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
