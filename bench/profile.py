#!/usr/bin/env python
"""Where a hot request's time goes, by layer: a pyinstrument profile of each hot endpoint, in process.

Runs each endpoint `--repeat` times through Django's full stack (test client, bearer token) against the
million-transaction household of bench/ledger_reads.py (seeded there, reused here), samples the stacks
with pyinstrument and charges every sample to the innermost layer it is in:

  SQL             psycopg and Django's database backend: sending statements and waiting for PostgreSQL
  ORM             building querysets and SQL, turning rows into model instances, prefetching
  authentication  DRF authentication and permissions, the token look-up's Python
  middleware      Django's handler and every middleware (sessions, CSRF, CSP, security, metrics, ...)
  filters         django-filter and DRF filter/ordering backends, pagination
  serialisation   DRF serializers and fields, our money/date fields, report selectors' Python
  rendering       JSON rendering and the response object
  logging         the logging module and our formatters/filters
  metrics         prometheus_client
  view            DRF dispatch and our views (what is left of them)
  harness         the test client building the request and reading the response (not server time)

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/financetracker_bench .venv/bin/python bench/profile.py [--repeat 40] [--html DIR]
Prints ms per request per layer for each endpoint. The machine is shared and noisy: the shares matter,
not the absolute milliseconds.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ledger_reads
from pyinstrument import Profiler
from pyinstrument.frame import Frame
from rest_framework.test import APIClient

# (layer, path fragments): the first layer whose fragment is in a frame's file path wins for that frame;
# a frame matching none belongs to its caller's layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("SQL", ("/psycopg/", "/django/db/backends/", "/django/db/transaction.py", "/django/db/utils.py")),
    ("ORM", ("/django/db/models/",)),
    ("logging", ("/logging/", "financetracker/logging.py")),
    ("metrics", ("/prometheus_client/", "/django_prometheus/")),
    (
        "authentication",
        (
            "/rest_framework/authentication.py",
            "/rest_framework/permissions.py",
            "ledger/api/authentication.py",
            "financetracker/core/api/permissions.py",
            "ledger/services/tokens.py",
            "financetracker/core/tenancy.py",
            "/django/contrib/auth/",
        ),
    ),
    (
        "filters",
        ("/django_filters/", "/rest_framework/filters.py", "ledger/api/filters.py", "/rest_framework/pagination.py"),
    ),
    (
        "serialisation",
        (
            "/rest_framework/serializers.py",
            "/rest_framework/fields.py",
            "/rest_framework/relations.py",
            "/rest_framework/utils/serializer_helpers.py",
            "/rest_framework/utils/field_mapping.py",
            "/rest_framework/utils/model_meta.py",
            "ledger/api/serializers.py",
            "financetracker/core/api/fields.py",
            "financetracker/core/api/strict.py",
            "financetracker/core/money.py",
            "budgets/selectors/",
            "uploads/api/serializers.py",
        ),
    ),
    (
        "rendering",
        (
            "/rest_framework/renderers.py",
            "/rest_framework/utils/encoders.py",
            "/json/",
            "/django/http/response.py",
            "/rest_framework/response.py",
            "/django/template/",
        ),
    ),
    (
        "import engine",
        ("uploads/services/statement_imports.py", "uploads/importers/", "uploads/files.py", "uploads/sniffing.py"),
    ),
    (
        "harness",
        ("/django/test/", "/rest_framework/test.py", "bench/profile.py", "/werkzeug/", "/urllib/", "/http/cookies"),
    ),
    ("view", ("/rest_framework/", "ledger/api/", "budgets/api/", "uploads/api/", "/django/urls/")),
    (
        "middleware",
        (
            "/django/core/handlers/",
            "/django/middleware/",
            "/django/utils/deprecation.py",
            "/django/contrib/sessions/",
            "/django/contrib/messages/",
            "/csp/",
            "/whitenoise/",
            "/axes/",
            "financetracker/core/request_context.py",
            "financetracker/security/",
        ),
    ),
]
ORDER = [
    "SQL",
    "ORM",
    "authentication",
    "middleware",
    "filters",
    "serialisation",
    "rendering",
    "logging",
    "metrics",
    "view",
    "import engine",
    "other",
]


def layer_of(frame: Frame, inherited: str) -> str:
    path = frame.file_path or ""
    for layer, fragments in LAYERS:
        if any(fragment in path for fragment in fragments):
            return layer
    return inherited


def charge(
    frame: Frame, inherited: str, totals: dict[str, float], hot: dict[tuple[str, str], float], where: str = "root"
) -> None:
    layer = layer_of(frame, inherited)
    own = frame.time - sum(child.time for child in frame.children)
    totals[layer] += own
    if own > 0:
        hot[(layer, where)] += own
    for child in frame.children:
        # pyinstrument's "[self]" leaves are the parent's own time: named after the parent.
        charge(child, layer, totals, hot, where if child.is_synthetic else _where(child))


def _where(frame: Frame) -> str:
    return f"{frame.function} ({frame.file_path_short or frame.file_path}:{frame.line_no})"


def profile(
    name: str, action: Callable[[], Any], repeat: int, html: Path | None
) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    for _ in range(3):
        action()  # warm: first-use imports and caches are not what a busy server pays
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(repeat):
        action()
    profiler.stop()
    if html is not None:
        html.mkdir(parents=True, exist_ok=True)
        (html / f"{name.replace(' ', '_')}.html").write_text(profiler.output_html())
    root = profiler.last_session.root_frame() if profiler.last_session else None
    totals: dict[str, float] = defaultdict(float)
    hot: dict[tuple[str, str], float] = defaultdict(float)
    if root is not None:
        charge(root, "other", totals, hot)
    return {k: v / repeat * 1000 for k, v in totals.items()}, {k: v / repeat * 1000 for k, v in hot.items()}


def endpoints(client: APIClient, household_id: int, account_id: int) -> dict[str, Callable[[], Any]]:
    month = (date.today() - timedelta(days=400)).strftime("%Y-%m")
    csv = "Date,Payee,Amount\n" + "".join(f"2024-03-{day:02d},Profile shop {day},-{day}.50\n" for day in range(1, 21))

    def get(url: str) -> Callable[[], Any]:
        def action() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]

        return action

    def import_preview() -> None:
        upload = io.BytesIO(csv.encode())
        upload.name = "profile.csv"
        response = client.post("/api/v1/imports/", {"account": account_id, "file": upload}, format="multipart")
        assert response.status_code == 201, response.content[:300]

    return {
        "transaction list": get("/api/v1/transactions/?page_size=50"),
        "account list": get("/api/v1/accounts/"),
        "budget report": get(f"/api/v1/reports/budget/?household={household_id}&month={month}"),
        "search": get("/api/v1/transactions/?search=bakery%20123&page_size=50"),
        "import preview": import_preview,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--html", type=Path, default=None, help="also write each profile as HTML into this folder")
    parser.add_argument("--top", type=int, default=6, help="hottest functions outside SQL to list per endpoint")
    args = parser.parse_args()

    client, household, account = ledger_reads.seeded_client(args.rows, client_name="profile")
    results: dict[str, dict[str, float]] = {}
    hottest: dict[str, dict[tuple[str, str], float]] = {}
    # Previews never commit, so the seeded account serves for the import preview too.
    for name, action in endpoints(client, household.pk, account.pk).items():
        results[name], hottest[name] = profile(name, action, args.repeat, args.html)

    print(f"\nms per request by layer (pyinstrument, {args.repeat} requests each, server time without the harness):")
    names = list(results)
    print(f"  {'layer':<15}" + "".join(f"{name:>18}" for name in names))
    for layer in ORDER:
        print(f"  {layer:<15}" + "".join(f"{results[name].get(layer, 0.0):18.2f}" for name in names))
    server = {name: sum(v for k, v in results[name].items() if k != "harness") for name in names}
    print(f"  {'= server':<15}" + "".join(f"{server[name]:18.2f}" for name in names))
    print(f"  {'(harness)':<15}" + "".join(f"{results[name].get('harness', 0.0):18.2f}" for name in names))
    print(f"  {'SQL share':<15}" + "".join(f"{results[name].get('SQL', 0) / server[name]:18.0%}" for name in names))
    for name in names:
        print(f"\n{name}: hottest functions outside SQL and the harness (ms per request, own time)")
        ranked = sorted(
            ((ms, layer, where) for (layer, where), ms in hottest[name].items() if layer not in {"SQL", "harness"}),
            reverse=True,
        )
        for ms, layer, where in ranked[: args.top]:
            print(f"  {ms:6.2f}  {layer:<14} {where}")


if __name__ == "__main__":
    main()
