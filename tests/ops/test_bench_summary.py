"""The README's benchmark table is generated from one `make bench` output by bench/summary.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "bench" / "results" / "2026-12-01-make-bench.raw.txt"


def summary() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_summary", ROOT / "bench" / "summary.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_figure_of_a_stored_run_reaches_the_table_with_its_baseline_and_verdict() -> None:
    table = summary().table(RAW.read_text())
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()[2:]}
    assert len(rows) == 14
    assert "20.9 ms; 4.37×" in rows["transaction list page, 50 rows with splits and tags, in process"]
    assert "not met" in rows["transaction list page, 50 rows with splits and tags, in process"]
    assert "5,804 req/s" in rows["account list under gunicorn, 8 connections"]
    assert "0.010 of the bare view" in rows["account list under gunicorn, 8 connections"]
    assert "0 — met" in rows["errors, every wrk run and the mix"]
    assert "13 runs" in rows["errors, every wrk run and the mix"]
    assert "0.32× COPY" in rows["first import of a 100k-row CSV"]
    assert "26,230 rows/s" in rows["first import of a 100k-row CSV"]
    assert "5.76 s" in rows["re-importing it (adds 0 rows)"]
    assert all("not in this run" not in line for line in rows.values())


def test_a_figure_missing_from_the_output_is_said_not_dropped() -> None:
    raw = "\n".join(line for line in RAW.read_text().splitlines() if "re-import:" not in line)
    row = next(line for line in summary().table(raw).splitlines() if line.startswith("| re-importing"))
    assert "not in this run" in row


def test_the_readme_holds_the_generated_table_between_its_markers() -> None:
    module = summary()
    readme = (ROOT / "README.md").read_text()
    assert readme.count(module.START) == 1 and readme.count(module.END) == 1
    between = readme.split(module.START, 1)[1].split(module.END, 1)[0]
    assert between.strip().startswith("| | measured | baseline in the same run |")


def test_the_newer_load_output_with_the_busiest_worker_column_is_read_too() -> None:
    raw = (ROOT / "bench" / "results" / "2026-12-01-make-bench-merged.raw.txt").read_text()
    table = summary().table(raw)
    assert "not in this run" not in table
    assert "| transaction list under gunicorn, 8 connections | 58 req/s, p99 248 ms; 0.051 of the bare view" in table
