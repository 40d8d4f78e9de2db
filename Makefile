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
bench:
	.venv/bin/python bench/ledger_reads.py
load:
	.venv/bin/python bench/load.py
