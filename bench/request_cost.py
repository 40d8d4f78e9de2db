#!/usr/bin/env python
"""The fixed cost of an API request, counted rather than timed: Python calls, queries and CPU time per request.

Wall-clock on a shared 2-core machine moves ±50% between runs; the number of Python function calls
(cProfile) and of statements per request do not. For each endpoint, against the million-transaction
household of bench/ledger_reads.py (seeded there, reused here), through the full stack (test client,
bearer token, all middleware):

  calls     Python function calls of one request (cProfile, the harness's own calls included, the same
            for every branch compared)
  queries   statements sent (CaptureQueriesContext), plus Django's persistent-connection health check
            (`SELECT 1`, counted through `is_usable`), which the test client skips but gunicorn does not:
            the script calls `close_old_connections()` before each request, as Django's WSGI handler does
  cpu       median process CPU time per request (time.process_time), ms
  wall      median wall time per request, ms

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/financetracker_bench .venv/bin/python bench/request_cost.py [--repeat 40]
Run it against two checkouts one after the other (alternating) and compare.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = str(Path(__file__).resolve().parent)
# bench/profile.py shadows the standard library's `profile`, which cProfile imports: import it without bench/.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(BENCH)]
import cProfile  # noqa: E402
import pstats  # noqa: E402

sys.path.insert(0, BENCH)
import ledger_reads  # noqa: E402  (sets Django up on financetracker_bench)
from django.db import close_old_connections, connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    client, _household, _account = ledger_reads.seeded_client(args.rows, client_name="request cost")

    health_checks = 0
    is_usable = connection.is_usable

    def counted_is_usable() -> bool:
        nonlocal health_checks
        health_checks += 1
        return is_usable()

    setattr(connection, "is_usable", counted_is_usable)  # noqa: B010  (counting the health check's SELECT 1)

    def get(url: str) -> Callable[[], None]:
        def action() -> None:
            close_old_connections()  # what Django's WSGI handler does at request_started
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]

        return action

    endpoints = {
        "account list": get("/api/v1/accounts/"),
        "transaction list": get("/api/v1/transactions/?page_size=50"),
        "received invitations (trivial)": get("/api/v1/invitations/"),
    }
    print(f"{'endpoint':<32} {'calls':>8} {'queries':>8} {'checks':>7} {'cpu ms':>8} {'wall ms':>8}")
    for label, action in endpoints.items():
        action()
        action()
        health_checks = 0
        with CaptureQueriesContext(connection) as queries:
            action()
        checks, statements = health_checks, len(queries)  # read now: request_started clears the log
        profiler = cProfile.Profile()
        profiler.enable()
        action()
        profiler.disable()
        calls = vars(pstats.Stats(profiler))["total_calls"]
        cpu, wall = [], []
        for _ in range(args.repeat):
            c0, w0 = time.process_time(), time.perf_counter()
            action()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        print(
            f"{label:<32} {calls:>8} {statements:>8} {checks:>7} "
            f"{statistics.median(cpu):>8.2f} {statistics.median(wall):>8.2f}"
        )


if __name__ == "__main__":
    main()
