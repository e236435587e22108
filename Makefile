# Entry points for developers, README's quick start and CI (.ci/run calls `make test`).
# Everything runs from .venv, which the first target that needs it creates or refreshes.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
PY := $(VENV)/bin/python
# Touched after a successful install: pyproject.toml newer than it means the venv is stale.
STAMP := $(VENV)/.installed
RUNNER := $(PY) -m servicedesk.runner
PYTEST_ARGS ?=
ARGS ?=

.PHONY: help venv demo run test bench lint fmt migrate manage stop-db clean clean-all

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  echo "Python 3.11 is needed; found '$(PYTHON)'. Run: make PYTHON=/path/to/python3.11 ..."; \
	  exit 1; }
	@# A venv whose interpreter is gone or of another version is rebuilt, not patched.
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	@echo "Installing the project and its dev tools into $(VENV) (the first time takes a while)..."
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create or refresh .venv from pyproject.toml

demo: $(STAMP) ## database, migrations, demo data, then serve on :$PORT (default 8000) with background work
	@$(RUNNER) demo

run: $(STAMP) ## like demo, without loading the demo data
	@$(RUNNER) run

test: $(STAMP) ## the whole suite on PostgreSQL ($DATABASE_URL or the embedded one); PYTEST_ARGS=...
	@$(RUNNER) test -- $(PYTEST_ARGS)

bench: $(STAMP) ## SLA sweep benchmark at 1,000,000 clocks (bench/README.md)
	@DJANGO_SETTINGS_MODULE=bench.settings $(RUNNER) manage bench_sweep $(ARGS)

lint: $(STAMP) ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP) ## format and apply safe lint fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrate: $(STAMP) ## apply migrations to $DATABASE_URL or the embedded database
	@$(RUNNER) manage migrate

manage: $(STAMP) ## any manage.py command with the database up: make manage ARGS="createsuperuser"
	@$(RUNNER) manage $(ARGS)

stop-db: $(STAMP) ## stop an embedded PostgreSQL left running (e.g. after kill -9)
	@$(RUNNER) stop-db

clean: ## remove caches and generated files; keeps .venv and the database in var/pgdata
	rm -rf var/static var/artifacts var/test-media var/celerybeat-schedule* .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

clean-all: clean ## also remove var/ (the database, uploaded files) and .venv
	@if [ -x $(PY) ]; then $(RUNNER) stop-db; fi
	rm -rf var $(VENV) *.egg-info
