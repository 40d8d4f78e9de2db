#!/usr/bin/env python
"""Regenerate the README's benchmark table from one `make bench` run's raw output.

Usage:  .venv/bin/python bench/summary.py bench/results/latest.raw.txt [--readme README.md]

Every figure in the table comes from that one output: the measured value, the baseline the script
measured beside it in the same run, and the target of issue #17 with "met" or "not met". The table
sits between the `<!-- bench:table -->` markers in the README; with `--print` it is only printed.
A figure the output lacks is shown as "not in this run" rather than left out.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

START, END = "<!-- bench:table -->", "<!-- /bench:table -->"
NUMBER = r"([\d,]+(?:\.\d+)?)"


def number(text: str) -> float:
    return float(text.replace(",", ""))


def find(raw: str, pattern: str, group: int = 1) -> float | None:
    match = re.search(pattern, raw, flags=re.MULTILINE)
    return number(match.group(group)) if match else None


@dataclass(frozen=True)
class Row:
    label: str
    measured: str
    baseline: str
    target: str
    met: bool | None


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not in this run"}[met]


def median_ms(raw: str, label: str) -> float | None:
    return find(raw, rf"^\s+{re.escape(label)}\s+median\s+{NUMBER} ms")


def load_row(raw: str, endpoint: str, concurrency: int) -> tuple[float, float, float, int, float] | None:
    """(req/s, p50, p99, errors, ratio to the bare view) of one wrk run of bench/load.py."""
    match = re.search(
        # an optional last column: the busiest worker's share of the CPU
        rf"^\s+{re.escape(endpoint)}\s+{concurrency}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+(\d+)\s+{NUMBER}(?:\s+\d+%)?\s*$",
        raw,
        flags=re.MULTILINE,
    )
    if not match:
        return None
    return (number(match[1]), number(match[2]), number(match[3]), int(match[4]), number(match[5]))


def at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def shown(value: float | None, fmt: Callable[[float], str]) -> str:
    return "–" if value is None else fmt(value)


def in_process_rows(raw: str) -> list[Row]:
    page = median_ms(raw, "transaction list page, 50 rows with splits and tags")
    floor = find(raw, r"list page / \(bare view \+ its SQL = " + NUMBER + r" ms\)")
    ratio = find(raw, r"list page / \(bare view \+ its SQL = [\d.]+ ms\):\s+" + NUMBER + "x")
    naive_page = find(raw, r"list page vs naive N\+1:\s+" + NUMBER + "x")
    balances = median_ms(raw, "all account balances")
    as_of = median_ms(raw, "one account's balance as of a date")
    naive_sum = find(raw, r"balances vs naive SUM:\s+" + NUMBER + "x")
    search = median_ms(raw, "text search (trigram index), 50 rows")
    report = median_ms(raw, "budget report for a month (50 categories)")
    ms = "{:.1f} ms".format
    both_met = None if page is None or ratio is None else page <= 10 and ratio <= 3
    return [
        Row(
            "transaction list page, 50 rows with splits and tags, in process",
            f"{shown(page, ms)}; {shown(ratio, '{:.2f}×'.format)} (bare view + its SQL)",
            f"bare view + its SQL {shown(floor, ms)}; N+1 page {shown(naive_page, '{:.1f}× slower'.format)}",
            "≤ 10 ms and ≤ 3×",
            both_met,
        ),
        Row(
            "all account balances",
            shown(balances, ms),
            f"SUM over the rows {shown(naive_sum, '{:.1f}× slower'.format)}",
            "≤ 5 ms",
            at_most(balances, 5),
        ),
        Row("one account's balance as of a date", shown(as_of, ms), "", "≤ 5 ms", at_most(as_of, 5)),
        Row("text search, 50 rows", shown(search, ms), "", "≤ 15 ms", at_most(search, 15)),
        Row("a month's budget report (50 categories)", shown(report, ms), "", "≤ 25 ms", at_most(report, 25)),
    ]


def load_rows(raw: str) -> list[Row]:
    rows = []
    bare8 = load_row(raw, "bare view", 8)
    bare32 = load_row(raw, "bare view", 32)
    bare_text = shown(bare8[0] if bare8 else None, "bare Django view {:,.0f} req/s".format)
    for endpoint, share in (("transaction list", 0.25), ("account list", 0.25), ("budget report", 0.10)):
        run = load_row(raw, endpoint, 8)
        rows.append(
            Row(
                f"{endpoint} under gunicorn, 8 connections",
                "–" if run is None else f"{run[0]:,.0f} req/s, p99 {run[2]:,.0f} ms; {run[4]:.3f} of the bare view",
                bare_text,
                f"≥ {share:.2f} of the bare view",
                None if run is None else run[4] >= share,
            )
        )
    for endpoint in ("transaction list", "account list"):
        run = load_row(raw, endpoint, 32)
        rows.append(
            Row(
                f"{endpoint}, p99 at 32 connections",
                "–" if run is None else f"{run[2]:,.0f} ms",
                shown(bare32[2] if bare32 else None, "bare view {:,.0f} ms".format),
                "≤ 250 ms",
                None if run is None else run[2] <= 250,
            )
        )
    errors = [int(m) for m in re.findall(r"^\s+\S.*?\s+(?:8|32)\s+[\d.,]+\s+[\d.,]+\s+[\d.,]+\s+(\d+)\s", raw, re.M)]
    mix_errors = [int(m) for m in re.findall(r"^mix: .* errors (\d+)", raw, flags=re.MULTILINE)]
    every = errors + mix_errors
    rows.append(
        Row(
            "errors, every wrk run and the mix",
            "–" if not every else f"{sum(every)}",
            f"{len(every)} runs",
            "0",
            None if not every else sum(every) == 0,
        )
    )
    rss = [number(m) for m in re.findall(r"RSS after the mix:\s+" + NUMBER + " MiB", raw)]
    rows.append(
        Row(
            "worker RSS after the mix",
            "–" if not rss else " / ".join(f"{value:.1f} MiB" for value in rss),
            "",
            "≤ 120 MiB",
            None if not rss else max(rss) <= 120,
        )
    )
    return rows


def import_rows(raw: str) -> list[Row]:
    rate = find(raw, r"^first import:\s+[\d.]+ s\s+" + NUMBER + " rows/s")
    copy = find(raw, r"^baseline COPY straight into ledger_transaction.*?:\s+" + NUMBER + " rows/s")
    ratio = find(raw, r"first import / COPY into ledger_transaction: " + NUMBER + "x")
    naive = find(raw, r"^baseline naive ORM create.*?:\s+" + NUMBER + " rows/s")
    again = find(raw, r"^re-import:\s+" + NUMBER + " s")
    return [
        Row(
            "first import of a 100k-row CSV",
            f"{shown(rate, '{:,.0f} rows/s'.format)} = {shown(ratio, '{:.2f}×'.format)} COPY",
            f"COPY into `ledger_transaction` {shown(copy, '{:,.0f} rows/s'.format)}; "
            f"naive ORM {shown(naive, '{:,.0f} rows/s'.format)}",
            "≥ 0.75× COPY",
            at_least(ratio, 0.75),
        ),
        Row("re-importing it (adds 0 rows)", shown(again, "{:.2f} s".format), "", "≤ 2 s", at_most(again, 2)),
    ]


def table(raw: str) -> str:
    rows = in_process_rows(raw) + load_rows(raw) + import_rows(raw)
    lines = ["| | measured | baseline in the same run | target (issue #17) |", "|---|---|---|---|"]
    lines += [f"| {r.label} | {r.measured} | {r.baseline} | {r.target} — {verdict(r.met)} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="the raw output of one `make bench` run")
    parser.add_argument("--readme", type=Path, default=Path(__file__).resolve().parent.parent / "README.md")
    parser.add_argument("--print", action="store_true", help="print the table, leave the README alone")
    options = parser.parse_args()
    rendered = table(options.raw.read_text())
    if options.print:
        print(rendered)
        return 0
    text = options.readme.read_text()
    if START not in text or END not in text:
        print(f"{options.readme}: no {START} … {END} markers", file=sys.stderr)
        return 2
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    options.readme.write_text(f"{head}{START}\n{rendered}\n{END}{tail}")
    print(rendered)
    print(f"\nwritten between the markers in {options.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
