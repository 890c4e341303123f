# revisit — the two commands a fresh machine needs: `make run` and `make test`.
# Both set up .venv themselves (Python 3.11+ and make are all they need).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PYTEST := $(BIN)/python -m pytest

.PHONY: run stack test test-unit test-integration test-e2e test-chart test-faults test-security test-browser test-spread bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Installs the project and its pinned dependencies; redone when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test,chart]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/python -m revisit_runner

# The distributed topology as native processes, against a local RabbitMQ and PostgreSQL
# (created if missing). At most 43 PostgreSQL connections by default (stack.py), so a
# laptop's PostgreSQL (100 connections) has room for the test suite beside it.
stack: $(VENV)/.installed
	REVISIT_AMQP_URL=$${REVISIT_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672//} \
	REVISIT_DATABASE_URL=$${REVISIT_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/revisit} \
	$(BIN)/python -m revisit_runner.stack

# The whole suite in two parts side by side: the fault tests on one native stack and a
# RabbitMQ node of their own (one process), and the rest spread over TEST_WORKERS processes
# (pytest-xdist, a file per worker at a time). Every test session has its own PostgreSQL
# database and RabbitMQ vhost, and small connection pools.
TEST_WORKERS ?= 3

test: $(VENV)/.installed-test
	$(MAKE) --no-print-directory -j2 --output-sync=target test-spread test-faults

test-spread: $(VENV)/.installed-test
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile --ignore=tests/faults tests

# One suite each: `make test-unit` runs tests/unit, and so on.
SUITES := test-unit test-integration test-e2e test-chart test-security test-faults test-browser

$(SUITES): test-%: $(VENV)/.installed-test
	$(PYTEST) tests/$*

# Measures the event pipeline, the gateway and the KPI store against the local RabbitMQ and
# PostgreSQL; prints a table and writes bench/results/latest.json (BENCH_ARGS=--quick: smaller).
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache
