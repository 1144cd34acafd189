# cryptoderiv: every target sets itself up (scripts/setup.sh is idempotent and fast when done).
SHELL := /bin/bash
VENV := .venv/bin
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export CUDA_VISIBLE_DEVICES :=
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: help setup demo test lint unit bench validate lock db-start db-stop db-status clean up down status

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup:  ## Debian packages, .venv from the pinned lock, the project (idempotent)
	@bash scripts/setup.sh

demo: setup  ## Run the main job once, end to end, and print where to look
	@$(VENV)/cryptoderiv demo

test: setup lint  ## Lint, then the whole test suite (starts its own database; the dashboard's too)
	@npm --prefix dashboard test --silent
	@$(VENV)/pytest -q

lint: setup  ## ruff (with the Airflow rules), mypy, import contracts, the dashboard's TypeScript
	@$(VENV)/ruff check src plugins dags spark_jobs models streaming tests benchmarks scripts
	@$(VENV)/mypy
	@$(VENV)/lint-imports
	@npm --prefix dashboard run typecheck --silent

bench: setup  ## Benchmarks side by side with their peers; ratios printed
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(VENV)/python "$$b" || exit 1; done

validate: setup  ## Check the analytics against the real market data in ../shared/data
	@for v in scripts/validate_*.py; do [ -e "$$v" ] || continue; echo "== $$v"; $(VENV)/python "$$v" || exit 1; done

lock:  ## Regenerate requirements.txt from pyproject.toml (needs uv)
	$(VENV)/uv pip compile pyproject.toml --all-extras --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.txt

up: setup  ## Start every service (Airflow :8080, MLflow :5000, dashboard :3000, sidecar :8090, mail :8025)
	@[ -f dashboard/.next/BUILD_ID ] || bash scripts/dashboard.sh build
	@$(VENV)/cryptoderiv stack up
status: setup  ## Each service's URL and health
	@$(VENV)/cryptoderiv stack status
down: setup  ## Stop exactly what `make up` started
	@$(VENV)/cryptoderiv stack down

db-start: setup  ## Start the local PostgreSQL cluster
	@$(VENV)/cryptoderiv db start
db-stop: setup  ## Stop the local PostgreSQL cluster
	@$(VENV)/cryptoderiv db stop
db-status: setup  ## Which database, running or not, migrations applied
	@$(VENV)/cryptoderiv db status

clean:  ## Stop the stack and the local cluster and remove .local (all local data!)
	-@$(VENV)/cryptoderiv stack down 2>/dev/null
	-@$(VENV)/cryptoderiv db stop 2>/dev/null
	rm -rf .local
