# Run `make help` for the targets. Everything runs from the project's own .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: help install run test lint typecheck format clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[usermgmt,notification,xray-local,test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the services with their test tools

run: install ## Start notification V1, user management and a local X-Ray daemon
	$(BIN)/python scripts/run_local.py

test: install lint ## Lint, type-check and run the whole test suite (needs MariaDB)
	$(BIN)/pytest

lint: install ## ruff and mypy
	$(BIN)/ruff check services tests scripts
	$(BIN)/ruff format --check services tests scripts
	$(BIN)/mypy

format: install ## Apply ruff's formatting and fixes
	$(BIN)/ruff format services tests scripts
	$(BIN)/ruff check --fix services tests scripts

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .run
