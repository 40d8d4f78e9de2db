SHELL := /bin/bash
# Shortcuts; the README's Quick start commands work without make.
.PHONY: serve test lint ci bench load
serve:
	python3 dev.py serve
test:
	python3 dev.py test
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && DEBUG=1 .venv/bin/mypy .
ci:
	CI=true bash .ci/run
# Scratch databases of the benchmarks (each is created and migrated when missing).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/financetracker_bench
IMPORT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ft_import_bench
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/financetracker_load
# In-process figures first (reads, their profile by layer, the import), then gunicorn under wrk.
bench:
	@mkdir -p bench/results
	( DATABASE_URL=$(BENCH_DATABASE_URL) .venv/bin/python bench/ledger_reads.py \
	  && DATABASE_URL=$(BENCH_DATABASE_URL) .venv/bin/python bench/profile.py \
	  && DATABASE_URL=$(IMPORT_DATABASE_URL) .venv/bin/python bench/import_csv.py \
	  && DATABASE_URL=$(LOAD_DATABASE_URL) .venv/bin/python bench/load.py ) 2>&1 | tee bench/results/latest.raw.txt; \
	  test $${PIPESTATUS[0]} -eq 0
	.venv/bin/python bench/summary.py bench/results/latest.raw.txt
load:
	DATABASE_URL=$(LOAD_DATABASE_URL) .venv/bin/python bench/load.py
