# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB ?= sqlite:///var/tidepool.db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint pytest bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	mkdir -p var
	$(BIN)/tidepool serve --db $(DB) --configs configs --demo --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check engine admin_ui tests bench
	$(BIN)/ruff format --check engine admin_ui tests bench
	$(BIN)/mypy

# One worker per core, a test file per worker at a time (module fixtures are built once);
# every test already has its own SQLite file and PostgreSQL schema.
pytest: install
	$(BIN)/python -m pytest -n auto --dist loadfile

test: lint pytest

bench: install
	$(BIN)/python bench/ingest.py --quick
	$(BIN)/python bench/conditions.py --quick
	$(BIN)/python bench/pools.py --quick
	$(BIN)/python bench/assignment.py --quick
	$(BIN)/python bench/campaigns.py --quick
	$(BIN)/python bench/simulate.py --quick
	$(BIN)/python bench/http_load.py --quick

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
