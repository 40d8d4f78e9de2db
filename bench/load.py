#!/usr/bin/env python
"""Load test: a mix of list, filter, create, import and report requests against a real gunicorn.

Seeds DATABASE_URL (a scratch database; created and migrated if missing) with `manage.py seed_demo`,
makes an API token for the demo user, starts gunicorn from gunicorn.conf.py on 127.0.0.1 and drives it
with a closed-loop thread-pool client (`--concurrency` threads, no think time: the highest rate this
machine sustains at that concurrency) for `--seconds`. Prints the request rate, p50/p95/p99 latency per
endpoint, errors by kind (any status >= 400 or a failed connection), and the RSS of each gunicorn
worker after warm-up and at the end (flat = no leak; worker recycling is switched off for the run).
The baseline, measured in the same run with the same gunicorn and concurrency: GET /healthz, the floor
of the stack here (no bare Django view exists in the app); each endpoint's rate is given as a ratio of it.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/financetracker_load .venv/bin/python bench/load.py [--seconds 60] [--concurrency 8]
Not run in CI. The machine is shared and noisy: compare the ratios, not the absolute rates.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker_memory import PYTHON, ROOT, free_port, wait_until_up

# (name, weight): reads dominate, as in real use; an import is the heaviest request by far.
MIX = [("list", 40), ("filter", 25), ("create", 15), ("import", 5), ("report", 15)]
CSV = "Date,Payee,Amount\n" + "".join(f"2024-03-{day:02d},Load test shop {day},-{day}.50\n" for day in range(1, 21))
MAX_REQUESTS_PER_THREAD = 1_000_000  # the time limit ends the run; this only bounds a runaway loop


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(name, []).append(seconds)
            if error is not None:
                self.errors[f"{name}: {error}"] += 1


@dataclass
class Context:
    base: str
    token: str
    household: int
    account: int
    month: str
    since: str


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def ensure_database(url: str) -> None:
    from psycopg import connect
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url)
    name = str(info.pop("dbname"))
    with connect(**{**info, "dbname": "postgres"}, autocommit=True) as admin:  # type: ignore[arg-type]
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def worker_rss_mib(master: psutil.Process) -> dict[int, float]:
    return {child.pid: child.memory_info().rss / 2**20 for child in master.children()}


def request_for(name: str, ctx: Context) -> Callable[[requests.Session], requests.Response]:
    api = f"{ctx.base}/api/v1"
    if name == "health":
        return lambda s: s.get(f"{ctx.base}/healthz", timeout=30)
    if name == "list":
        return lambda s: s.get(f"{api}/transactions/", timeout=30)
    if name == "filter":
        term = random.choice(["Aldi", "Lidl", "Acme", "Bakery", "Roma"])
        return lambda s: s.get(f"{api}/transactions/", params={"search": term, "date_after": ctx.since}, timeout=30)
    if name == "create":
        body: Any = {"household": ctx.household, "name": f"load-{uuid.uuid4().hex[:12]}"}
        return lambda s: s.post(f"{api}/tags/", json=body, timeout=30)
    if name == "import":
        return lambda s: s.post(
            f"{api}/imports/",
            data={"account": ctx.account},
            files={"file": ("load.csv", io.BytesIO(CSV.encode()))},
            timeout=60,
        )
    if name == "report":
        params: Any = {"household": ctx.household, "month": ctx.month}
        return lambda s: s.get(f"{api}/reports/budget/", params=params, timeout=30)
    raise ValueError(name)


def drive(
    ctx: Context, names: list[str], weights: list[int], seconds: float, concurrency: int
) -> tuple[Results, float]:
    results = Results()
    deadline = time.monotonic() + seconds

    def loop(seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {ctx.token}"
        for _ in range(MAX_REQUESTS_PER_THREAD):
            if time.monotonic() >= deadline:
                break
            name = rng.choices(names, weights)[0]
            send = request_for(name, ctx)
            started = time.perf_counter()
            try:
                response = send(session)
                error = None if response.status_code < 400 else str(response.status_code)
            except requests.RequestException as exc:
                error = type(exc).__name__
            results.record(name, time.perf_counter() - started, error)
        session.close()

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(seed,), daemon=True) for seed in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)  # a stuck request times out at 60 s; never wait for ever
    return results, time.monotonic() - started


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(title: str, results: Results, elapsed: float, concurrency: int, floor: float | None) -> float:
    everything = list(itertools.chain.from_iterable(results.latencies.values()))
    rate = len(everything) / elapsed
    print(
        f"\n{title}: {len(everything)} requests in {elapsed:.1f} s = {rate:.1f} req/s, errors {sum(results.errors.values())}"
    )
    print(f"  {'endpoint':<8} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s*':>8} {'vs healthz':>10}")
    for name, values in sorted(results.latencies.items()):
        # The rate this endpoint would reach on its own at this concurrency, at the latency it had in the mix.
        alone = concurrency / statistics.fmean(values)
        ratio = f"{alone / floor:10.3f}" if floor else f"{'1.000':>10}"
        print(
            f"  {name:<8} {len(values):>7} {percentile(values, 50) * 1000:8.1f} {percentile(values, 95) * 1000:8.1f}"
            f" {percentile(values, 99) * 1000:8.1f} {alone:8.1f} {ratio}"
        )
    print(
        f"  all      {len(everything):>7} {percentile(everything, 50) * 1000:8.1f}"
        f" {percentile(everything, 95) * 1000:8.1f} {percentile(everything, 99) * 1000:8.1f}"
    )
    for kind, count in results.errors.most_common():
        print(f"  error {kind}: {count}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the mixed run (default 60)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--baseline-seconds", type=float, default=10, help="length of the /healthz run (default 10)")
    args = parser.parse_args()

    uploads = tempfile.mkdtemp(prefix="ft-load-uploads-")
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/financetracker_load"),
        "UPLOADS_ROOT": uploads,
        "GUNICORN_MAX_REQUESTS": "0",  # no recycling: a leak must show in the RSS, not be hidden by restarts
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    ensure_database(env["DATABASE_URL"])
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "seed_demo")
    token = manage(env, "create_api_token", "demo", "--name", f"load-{uuid.uuid4().hex[:8]}").split()[-1]

    port = free_port()
    command = [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"]
    app = subprocess.Popen(
        [*command, "financetracker.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz")
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        household = session.get(f"{base}/api/v1/households/", timeout=30).json()["results"][0]["id"]
        accounts = session.get(f"{base}/api/v1/accounts/", params={"household": household}, timeout=30).json()
        today = date.today()
        ctx = Context(
            base=base,
            token=token,
            household=household,
            account=accounts["results"][0]["id"],
            month=today.strftime("%Y-%m"),
            since=(today - timedelta(days=90)).isoformat(),
        )
        master = psutil.Process(app.pid)
        workers = len(master.children())
        print(f"gunicorn: {workers} workers (gunicorn.conf.py), client: {args.concurrency} threads, closed loop")
        print("mix weights: " + ", ".join(f"{name} {weight}" for name, weight in MIX))

        health, health_elapsed = drive(ctx, ["health"], [1], args.baseline_seconds, args.concurrency)
        # Warm-up: every endpoint once in every worker before the start RSS is read.
        names, weights = [name for name, _ in MIX], [weight for _, weight in MIX]
        drive(ctx, names, [1] * len(MIX), 3, args.concurrency)
        start_rss = worker_rss_mib(master)
        # Halfway too: growth that stops after the first half is warm-up (caches, lazy imports), not a leak.
        middle_rss: dict[int, float] = {}
        sampler = threading.Timer(args.seconds / 2, lambda: middle_rss.update(worker_rss_mib(master)))
        sampler.start()
        mix, mix_elapsed = drive(ctx, names, weights, args.seconds, args.concurrency)
        sampler.join()
        end_rss = worker_rss_mib(master)
    finally:
        app.terminate()
        app.wait(60)

    floor = report("baseline GET /healthz", health, health_elapsed, args.concurrency, None)
    rate = report("mix", mix, mix_elapsed, args.concurrency, floor)
    print(f"\nmix rate / healthz rate: {rate / floor:.3f}   (* req/s = concurrency / mean latency in the mix)")
    for pid, start in start_rss.items():
        end = end_rss.get(pid)
        middle = middle_rss.get(pid)
        halfway = "exited" if middle is None else f"{middle:6.1f} MiB halfway"
        change = "exited" if end is None else f"{end:6.1f} MiB at the end ({end - start:+.1f} MiB)"
        print(f"worker {pid} RSS: {start:6.1f} MiB after warm-up, {halfway}, {change}")


if __name__ == "__main__":
    main()
