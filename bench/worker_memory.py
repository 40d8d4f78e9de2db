#!/usr/bin/env python
"""Gunicorn worker memory: resident size of one worker after serving real pages of a big household.

Starts gunicorn (1 worker, the project's gunicorn.conf.py) on 127.0.0.1 against DATABASE_URL — use the
database bench/ledger_reads.py seeded with a million transactions — makes a few hundred requests (the
transaction list, filters, search, balances, reports, the OpenAPI schema), and reads the worker's
VmRSS/VmHWM from /proc. The baseline, measured in the same run: a gunicorn worker serving a
hello-world WSGI app (the floor Python + gunicorn cost here). PRODUCT.md's target: < 150 MiB.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/financetracker_bench .venv/bin/python bench/worker_memory.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import ROOT, bench_environment

PYTHON = sys.executable
HELLO_APP = "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"


def server_environment(default_database: str, **overrides: str) -> dict[str, str]:
    """The environment of a gunicorn the benchmark starts on loopback (bench_environment over this one's)."""
    env = {
        **os.environ,
        **bench_environment(default_database, ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0", **overrides),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_memory_mib(master_pid: int) -> tuple[float, float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    status = Path(f"/proc/{children[0]}/status").read_text()
    values = {
        line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))
    }
    return int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024


def wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).read()  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on {url}")


def start(app: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
        app,
    ]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    env = server_environment("financetracker_bench", PYTHONPATH=str(ROOT))

    with tempfile.TemporaryDirectory() as hello_dir:
        Path(hello_dir, "hello.py").write_text(HELLO_APP)
        port = free_port()
        hello = start("hello:application", port, env, Path(hello_dir))
        try:
            wait_until_up(f"http://127.0.0.1:{port}/")
            for _ in range(50):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/").read()
            hello_rss, _ = worker_memory_mib(hello.pid)
        finally:
            hello.terminate()
            hello.wait()

    token = subprocess.run(
        [PYTHON, "manage.py", "create_api_token", "bench", "--name", "worker-memory"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    port = free_port()
    app = start("financetracker.wsgi:application", port, env, ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz")
        headers = {"Authorization": f"Bearer {token}"}

        def get(path: str) -> bytes:
            request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 - loopback only
            return urllib.request.urlopen(request, timeout=30).read()  # noqa: S310 - loopback only

        household = json.loads(get("/api/v1/households/"))["results"][0]["id"]
        month = time.strftime("%Y-%m")
        paths = [
            "/api/v1/transactions/?page_size=500",
            "/api/v1/transactions/?search=bakery&page_size=200",
            "/api/v1/transactions/?min_amount=-50&max_amount=-10&page_size=200",
            "/api/v1/accounts/",
            f"/api/v1/reports/budget/?household={household}&month={month}",
            f"/api/v1/reports/cashflow/?household={household}",
            f"/api/v1/reports/net-worth/?household={household}",
            "/api/v1/schema/",
        ]
        started_rss, _ = worker_memory_mib(app.pid)
        for _round in range(40):
            for path in paths:
                get(path)
        rss, peak = worker_memory_mib(app.pid)
    finally:
        app.terminate()
        app.wait()

    print(f"requests served: {40 * len(paths)} (pages of up to 500 rows, reports, the OpenAPI schema)")
    print(
        f"financetracker worker: {started_rss:6.1f} MiB after start, {rss:6.1f} MiB after the requests, peak {peak:6.1f} MiB"
    )
    print(f"baseline: a gunicorn worker serving hello-world: {hello_rss:6.1f} MiB")
    print(
        f"target < 150 MiB -> {'OK' if peak < 150 else 'MISSED'}; the app adds {peak - hello_rss:.1f} MiB over the floor"
    )


if __name__ == "__main__":
    main()
