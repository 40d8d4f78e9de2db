#!/usr/bin/env python
"""Load test against a real gunicorn: each hot endpoint alone under wrk, beside a bare Django view, then a mix.

Seeds DATABASE_URL (a scratch database; created and migrated if missing) with `manage.py seed_demo`,
makes an API token for the demo user and starts gunicorn from gunicorn.conf.py on 127.0.0.1 (its own
settings: workers, threads, keep-alive, recycling).

1. Endpoints alone, under wrk (closed loop, keep-alive connections, `--seconds` each) at each
   `--concurrency` (default 8 and 32): the transaction list, the account list, the budget report, a
   text search and an import preview (a 20-row CSV uploaded and previewed, POST). Beside them the floor:
   a bare Django view returning 2 KB of JSON (bench/bare_app.py: no middleware, no database) under the
   same gunicorn.conf.py, measured in the same run. Prints req/s, p50 and p99, errors (non-2xx and
   socket errors) and each endpoint's rate as a share of the bare view's at the same concurrency.
2. A mix (list 40, filter 25, create 15, import 5, report 15) from a thread-pool client for
   `--mix-seconds`, then the resident memory of each worker (target <= 120 MiB).

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/financetracker_load .venv/bin/python bench/load.py [--seconds 10] [--concurrency 8,32]
Needs wrk (`apt-get install wrk`). Not run in CI. The machine is shared and noisy: compare the ratios,
not the absolute rates.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import random
import re
import shutil
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
from worker_memory import PYTHON, ROOT, free_port, server_environment, wait_until_up

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
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(url)
    name = str(info.pop("dbname"))
    with connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
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
    print(f"  {'endpoint':<8} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s*':>8} {'vs floor':>10}")
    for name, values in sorted(results.latencies.items()):
        # The rate this endpoint would reach on its own at this concurrency, at the latency it had in the mix.
        alone = concurrency / statistics.fmean(values)
        ratio = f"{alone / floor:10.3f}" if floor else f"{'-':>10}"
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


WRK_TARGETS = ["bare view", "transaction list", "account list", "budget report", "search", "import preview"]
TARGETS = {"list": 0.25, "accounts": 0.25, "report": 0.10}  # share of the bare view at concurrency 8 (issue #17)


@dataclass
class WrkResult:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    busiest: float = 0.0  # the busiest worker's share of the workers' CPU time during the run (0.5 = even)


def _ms(text: str) -> float:
    number = float(re.sub(r"[a-z]+$", "", text))
    unit = re.sub(r"^[0-9.]+", "", text)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk_figure(pattern: str, output: str) -> str:
    match = re.search(pattern, output, re.M)
    if match is None:
        raise ValueError(f"wrk printed no {pattern!r}:\n{output}")
    return match.group(1)


def parse_wrk(output: str) -> WrkResult:
    rate = float(_wrk_figure(r"Requests/sec:\s+([0-9.]+)", output))
    p50 = _ms(_wrk_figure(r"^\s+50%\s+(\S+)", output))
    p99 = _ms(_wrk_figure(r"^\s+99%\s+(\S+)", output))
    requests_done = int(_wrk_figure(r"(\d+) requests in", output))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(group) for group in match.groups())
    return WrkResult(rate, p50, p99, requests_done, errors)


def wrk_script(folder: Path, name: str, token: str, body: bytes | None = None, boundary: str = "") -> Path:
    """A wrk Lua script sending the token (and, for the import, a multipart POST)."""
    lines = [f'wrk.headers["Authorization"] = "Bearer {token}"']
    if body is not None:
        lines += [
            'wrk.method = "POST"',
            f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={boundary}"',
            "wrk.body = " + _lua_string(body.decode()),
        ]
    path = folder / f"{name.replace(' ', '_')}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n") + '"'


def worker_cpu(master: psutil.Process | None) -> dict[int, float]:
    if master is None:
        return {}
    return {child.pid: sum(child.cpu_times()[:2]) for child in master.children()}


def run_wrk(
    url: str, script: Path | None, seconds: float, concurrency: int, master: psutil.Process | None = None
) -> WrkResult:
    command = [
        "wrk",
        "-t",
        str(min(2, concurrency)),
        "-c",
        str(concurrency),
        "-d",
        f"{seconds:g}s",
        "--latency",
        "--timeout",
        "30s",
    ]
    if script is not None:
        command += ["-s", str(script)]
    before = worker_cpu(master)
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    result = parse_wrk(output)
    # Whether wrk's connections landed on every worker (issue #17 saw all of them on one).
    used = [cpu - before[pid] for pid, cpu in worker_cpu(master).items() if pid in before]
    if used and sum(used) > 0:
        result.busiest = max(used) / sum(used)
    return result


def start_gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}", app]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each wrk run (default 10)")
    parser.add_argument("--concurrency", default="8,32", help="wrk connections, comma-separated (default 8,32)")
    parser.add_argument("--mix-seconds", type=float, default=30, help="length of the mixed run (default 30)")
    parser.add_argument("--mix-concurrency", type=int, default=8, help="client threads of the mix (default 8)")
    parser.add_argument(
        "--compare-worker-class",
        default="gthread",
        help="also run the two lists under this gunicorn worker class, same run ('' to skip; default gthread)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/load.py needs wrk: apt-get install wrk (or brew install wrk)")
    levels = [int(level) for level in args.concurrency.split(",")]

    uploads = tempfile.mkdtemp(prefix="ft-load-uploads-")
    env = server_environment(
        "financetracker_load", UPLOADS_ROOT=uploads, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}"
    )
    ensure_database(env["DATABASE_URL"])
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "seed_demo")
    token = manage(env, "create_api_token", "demo", "--name", f"load-{uuid.uuid4().hex[:8]}").split()[-1]

    results: dict[tuple[str, int], WrkResult] = {}
    scripts = Path(tempfile.mkdtemp(prefix="ft-load-wrk-"))
    bare_port = free_port()
    bare = start_gunicorn("bare_app:application", bare_port, env)
    try:
        wait_until_up(f"http://127.0.0.1:{bare_port}/bare/")
        bare_master = psutil.Process(bare.pid)
        for level in levels:
            results[("bare view", level)] = run_wrk(
                f"http://127.0.0.1:{bare_port}/bare/", None, args.seconds, level, bare_master
            )
    finally:
        stop(bare)

    port = free_port()
    app = start_gunicorn("financetracker.wsgi:application", port, env)
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
        boundary = "ftloadboundary" + uuid.uuid4().hex
        upload = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="account"\r\n\r\n{ctx.account}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="load.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n{CSV}\r\n--{boundary}--\r\n"
        ).encode()
        api = f"{base}/api/v1"
        endpoints = {
            "transaction list": (f"{api}/transactions/", wrk_script(scripts, "list", token)),
            "account list": (f"{api}/accounts/", wrk_script(scripts, "accounts", token)),
            "budget report": (
                f"{api}/reports/budget/?household={household}&month={ctx.month}",
                wrk_script(scripts, "report", token),
            ),
            "search": (f"{api}/transactions/?search=bakery", wrk_script(scripts, "search", token)),
            "import preview": (f"{api}/imports/", wrk_script(scripts, "import", token, upload, boundary)),
        }
        for name, (url, script) in endpoints.items():  # every endpoint answers before anything is timed
            check = run_wrk(url, script, 1, 1)
            if check.errors or not check.requests:
                sys.exit(f"{name}: {check.errors} errors in a 1 s check; is the demo data in place?")
        master = psutil.Process(app.pid)
        for level in levels:
            for name, (url, script) in endpoints.items():
                results[(name, level)] = run_wrk(url, script, args.seconds, level, master)

        names, weights = [name for name, _ in MIX], [weight for _, weight in MIX]
        mix, mix_elapsed = drive(ctx, names, weights, args.mix_seconds, args.mix_concurrency)
        end_rss = worker_rss_mib(master)
    finally:
        stop(app)

    compared: dict[tuple[str, int], WrkResult] = {}
    if args.compare_worker_class:
        other = start_gunicorn(
            "financetracker.wsgi:application", port, {**env, "GUNICORN_WORKER_CLASS": args.compare_worker_class}
        )
        try:
            wait_until_up(f"{base}/healthz")
            other_master = psutil.Process(other.pid)
            for level in levels:
                for name in ("transaction list", "account list"):
                    url, script = endpoints[name]
                    compared[(name, level)] = run_wrk(url, script, args.seconds, level, other_master)
        finally:
            stop(other)

    print(f"\nendpoints alone under wrk ({args.seconds:g} s each, keep-alive), gunicorn.conf.py as configured:")
    print(
        f"  {'endpoint':<17} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'vs bare':>8}"
        f" {'busiest worker':>15}"
    )
    for level in levels:
        floor = results[("bare view", level)].rate
        for name in WRK_TARGETS:
            r = results[(name, level)]
            print(
                f"  {name:<17} {level:>4} {r.rate:9.1f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {r.errors:>6} "
                f"{r.rate / floor:8.3f} {r.busiest:14.0%}"
            )
    for (name, level), r in compared.items():
        floor = results[("bare view", level)].rate
        print(
            f"  {name + ' *':<17} {level:>4} {r.rate:9.1f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {r.errors:>6} "
            f"{r.rate / floor:8.3f} {r.busiest:14.0%}"
        )
    if compared:
        print(f"  (* the same under worker class {args.compare_worker_class!r}, same run, after the others)")
    print(
        "  (busiest worker: its share of the workers' CPU time during the run; 50% with two workers is an even"
        " spread, 100% all on one)"
    )
    print("\ntargets (issue #17), same run:")
    c8 = 8 if 8 in levels else levels[0]
    floor8 = results[("bare view", c8)].rate
    for label, name, share in [
        ("transaction list", "transaction list", TARGETS["list"]),
        ("account list", "account list", TARGETS["accounts"]),
        ("budget report", "budget report", TARGETS["report"]),
    ]:
        got = results[(name, c8)].rate / floor8
        print(
            f"  {label:<17} c={c8}: {got:6.3f} of the bare view   target >= {share:.2f}  -> {'OK' if got >= share else 'MISSED'}"
        )
    if 32 in levels:
        for name in ("transaction list", "account list"):
            p99 = results[(name, 32)].p99_ms
            print(f"  {name:<17} c=32: p99 {p99:7.1f} ms   target <= 250 ms  -> {'OK' if p99 <= 250 else 'MISSED'}")
    errors = sum(r.errors for r in [*results.values(), *compared.values()])
    print(f"  errors in every wrk run: {errors}   target 0  -> {'OK' if errors == 0 else 'MISSED'}")
    report("mix", mix, mix_elapsed, args.mix_concurrency, None)
    for pid, rss in end_rss.items():
        print(
            f"worker {pid} RSS after the mix: {rss:6.1f} MiB   target <= 120 MiB  -> {'OK' if rss <= 120 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
