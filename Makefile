# Two commands for a new user: `make run` (the portal on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed-stamp

.PHONY: run test stack install debian-packages test-packages messages lint migrate-check setup-data bench clean

run: install messages
	mkdir -p var
	$(MANAGE) migrate --no-input
	$(MANAGE) load_reference_data
	$(MANAGE) seed_demo
	$(MANAGE) runserver 127.0.0.1:8000

test: install test-packages messages lint migrate-check
	$(BIN)/pytest

# The full stack: gunicorn, a Celery worker and beat (the Procfile, the same commands as
# docker-compose.yml) against DATABASE_URL and REDIS_URL. scripts/stack.py checks that PostgreSQL and
# Redis answer, migrates, and runs the Procfile with the project's environment on PATH.
stack: install messages
	$(BIN)/python scripts/stack.py

install: debian-packages $(STAMP)

debian-packages:
	@scripts/debian-packages

test-packages:
	@scripts/debian-packages test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

messages: $(STAMP)
	$(MANAGE) compilemessages --ignore=.venv -v0

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

migrate-check: $(STAMP)
	$(MANAGE) makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles

# The official PDF documents' benchmark (render time against a Latin-only baseline, size, worker memory,
# forms per second with two worker processes); writes docs/benchmarks.md. Two worker processes need
# PostgreSQL, as production runs it: DATABASE_URL, or the local one CI uses.
bench: install
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/transfer_portal}" \
		$(BIN)/python scripts/bench_documents.py --output docs/benchmarks.md
