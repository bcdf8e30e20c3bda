# The two commands of the README: `make run` and `make test`. Both set themselves up.
# The newest Python that runs here: `chalice package` targets the Lambda runtime of the Python
# that runs it, and Lambda no longer creates python3.11 functions. Override with PYTHON=...
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do $$p -c "" 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .  # the `longhaul` terminal client
	@touch $(STAMP)

install: $(STAMP)

## Start the whole local stack (QStash, Redis REST, DynamoDB, SMTP) and the app on 127.0.0.1.
run: install
	$(BIN)/python -m devstack up

## Lint, type-check and run every test (unit, integration, e2e).
test: lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Print the benchmark figures quoted in the README.
bench: install
	$(BIN)/python -m bench.local_stack
	$(BIN)/python -m bench.scenario_cost
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.events
	$(BIN)/python -m bench.jobs

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .devstack
