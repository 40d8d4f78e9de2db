"""Play the workloads of a plan written by kube2podman.py, the way the kubelet runs a pod.

  play.py PLAN up               play every long-running pod, start its containers, wait until ready
  play.py PLAN job NAME         play one Job pod, run it to completion (exit status: the Job's)
  play.py PLAN ip NAME          the static IP of a workload's pod
  play.py PLAN container NAME C the podman name of container C of a workload's pod
  play.py PLAN down             remove the plan's pods and volumes (and leftovers of an earlier run)

Per pod: `podman kube play --start=false` (the converted YAML), then init containers one at a time,
each to success (retried with backoff, as the kubelet retries them), then native sidecars (started and
probed, left running), then the main containers; `up` then waits for every startup and readiness probe
of the manifest (exec, httpGet, tcpSocket), run by this script against the pod, since podman 4.3 runs no
probes. A Job ends when its main containers have exited; its sidecars are then stopped.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

NETWORK = "ft-play"
LABEL = "financetracker.io/podman-play=true"
INIT_ATTEMPTS = 6


def podman(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], check=False, text=True, capture_output=capture)  # noqa: S603, S607
    if check and result.returncode != 0:
        raise SystemExit(f"podman {' '.join(args)}: exit {result.returncode}: {(result.stderr or '').strip()}")
    return result


def say(message: str) -> None:
    print(message, flush=True)


def logs(container: str, tail: int = 30) -> None:
    result = podman("logs", "--tail", str(tail), container, check=False)
    for line in (result.stdout + result.stderr).splitlines():
        print(f"    | {line}")


def play(workload: dict[str, Any]) -> None:
    podman("pod", "rm", "-f", workload["pod"], check=False)
    for volume in workload["empty_dirs"]:  # an emptyDir starts empty
        podman("volume", "rm", "-f", volume, check=False)
    podman("kube", "play", "--start=false", "--network", NETWORK, "--ip", workload["ip"], workload["file"])
    if not podman("pod", "exists", workload["pod"], check=False).returncode == 0:
        raise SystemExit(f"kube play did not create pod {workload['pod']}: podman pod ps shows what it made")


def run_to_completion(step: dict[str, Any], attempts: int) -> int:
    for attempt in range(1, attempts + 1):
        result = podman("start", "--attach", step["container"], check=False, capture=False)
        code = int(
            podman("inspect", "-f", "{{.State.ExitCode}}", step["container"]).stdout.strip() or result.returncode
        )
        if code == 0:
            return 0
        say(f"  {step['container']} exited {code} (attempt {attempt}/{attempts})")
        if attempt < attempts:
            time.sleep(min(5 * attempt, 20))
    return code


def probe_once(workload: dict[str, Any], step: dict[str, Any], probe: dict[str, Any]) -> bool:
    timeout = probe.get("timeoutSeconds", 1)
    if "exec" in probe:
        cmd = ["podman", "exec", step["container"], *probe["exec"]["command"]]
        try:
            return subprocess.run(cmd, capture_output=True, timeout=timeout + 10).returncode == 0  # noqa: S603
        except subprocess.TimeoutExpired:
            return False
    if "httpGet" in probe:
        get = probe["httpGet"]
        port = step["ports"].get(get["port"], get["port"])
        request = urllib.request.Request(f"http://{workload['ip']}:{port}{get.get('path', '/')}")
        for header in get.get("httpHeaders") or []:
            request.add_header(header["name"], header["value"])
        try:
            with urllib.request.urlopen(request, timeout=timeout + 2) as response:  # noqa: S310 - a pod IP
                return 200 <= response.status < 400
        except (urllib.error.URLError, OSError):
            return False
    if "tcpSocket" in probe:
        port = step["ports"].get(probe["tcpSocket"]["port"], probe["tcpSocket"]["port"])
        try:
            socket.create_connection((workload["ip"], int(port)), timeout=timeout + 1).close()
            return True
        except OSError:
            return False
    raise SystemExit(f"{step['container']}: unsupported probe {probe}")


def wait_probe(workload: dict[str, Any], step: dict[str, Any], kind: str, probe: dict[str, Any]) -> None:
    period = probe.get("periodSeconds", 10)
    # A startup probe's budget is its failureThreshold x period; readiness gets two minutes here.
    budget = period * probe.get("failureThreshold", 3) if kind == "startupProbe" else 120
    deadline = time.monotonic() + max(budget, 30)
    while time.monotonic() < deadline:
        if probe_once(workload, step, probe):
            say(f"  {step['container']}: {kind} passed")
            return
        state = podman("inspect", "-f", "{{.State.Status}}", step["container"], check=False).stdout.strip()
        if state not in ("running", "created", "configured"):
            logs(step["container"])
            raise SystemExit(f"{step['container']} is {state}, {kind} cannot pass")
        time.sleep(min(period, 2))
    logs(step["container"])
    raise SystemExit(f"{step['container']}: {kind} did not pass in {budget} s")


def start(workload: dict[str, Any]) -> None:
    say(f"pod {workload['pod']} ({workload['source']}) at {workload['ip']}")
    play(workload)
    for step in workload["steps"]:
        if step["role"] == "init":
            say(f"  init container {step['name']}")
            if run_to_completion(step, INIT_ATTEMPTS) != 0:
                logs(step["container"])
                raise SystemExit(f"{step['container']}: init container failed")
        elif step["role"] == "sidecar":
            say(f"  sidecar {step['name']}")
            podman("start", step["container"])
            if "startupProbe" in step["probes"]:
                wait_probe(workload, step, "startupProbe", step["probes"]["startupProbe"])
    for step in workload["steps"]:
        if step["role"] == "main":
            say(f"  container {step['name']}")
            podman("start", step["container"])


def up(plan: dict[str, Any]) -> None:
    services = [w for w in plan["workloads"] if w["role"] == "service"]
    # Every pod at once, as on a cluster: no start order between pods (the app's init container
    # retries until PostgreSQL answers, as it would there).
    with ThreadPoolExecutor(max_workers=len(services) or 1) as pool:
        for future in [pool.submit(start, workload) for workload in services]:
            future.result()
    for workload in services:
        for step in workload["steps"]:
            if step["role"] != "main":
                continue
            for kind in ("startupProbe", "readinessProbe"):
                if kind in step["probes"]:
                    wait_probe(workload, step, kind, step["probes"][kind])
    say(f"{len(services)} pods ready")


def job(plan: dict[str, Any], name: str) -> int:
    workload = find(plan, name)
    start(workload)
    code = 0
    for step in workload["steps"]:
        if step["role"] == "main":
            exit_code = int(podman("wait", step["container"]).stdout.strip().splitlines()[-1])
            say(f"  {step['name']} exited {exit_code}")
            logs(step["container"], tail=200)
            code = code or exit_code
    for step in workload["steps"]:
        if step["role"] == "sidecar":
            podman("stop", "-t", "10", step["container"], check=False)
    podman("pod", "rm", "-f", workload["pod"], check=False)
    for volume in workload["empty_dirs"]:
        podman("volume", "rm", "-f", volume, check=False)
    return code


def down(plan: dict[str, Any]) -> None:
    pods = podman("pod", "ps", "-q", "--filter", f"label={LABEL}", check=False).stdout.split()
    pods += [w["pod"] for w in plan["workloads"]]
    for pod in pods:
        podman("pod", "rm", "-f", pod, check=False)
    for volume in plan["volumes"] + [v for w in plan["workloads"] for v in w["empty_dirs"]]:
        podman("volume", "rm", "-f", volume, check=False)


def find(plan: dict[str, Any], name: str) -> dict[str, Any]:
    for workload in plan["workloads"]:
        if name in (workload["name"], workload["source"], workload["pod"]):
            return workload
    raise SystemExit(f"no workload {name} in the plan")


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        plan = json.load(handle)
    command = sys.argv[2]
    if command == "up":
        up(plan)
    elif command == "job":
        return job(plan, sys.argv[3])
    elif command == "ip":
        print(find(plan, sys.argv[3])["ip"])
    elif command == "container":
        print(next(s["container"] for s in find(plan, sys.argv[3])["steps"] if s["name"] == sys.argv[4]))
    elif command == "down":
        down(plan)
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
