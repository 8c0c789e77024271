# plume's local stack and checks. Every port and PLUME_HOME can be overridden from the
# environment (see README); the scripts live in deploy/local/.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin

.PHONY: help install venv up down status test test-unit lint bench clean

help:
	@echo "make install | venv | up | down | status | test | test-unit | lint | bench | clean"

install: ## Debian packages, JDK check, Kafka jars, .venv
	@deploy/local/install.sh

venv: ## .venv only (enough for unit tests and lint)
	@deploy/local/install.sh python

up: install ## start what is not running; print where everything listens
	@deploy/local/up.sh

down: ## stop everything `make up` started; data stays
	@deploy/local/down.sh

status:
	@deploy/local/status.sh

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
define run_pytest
	@set +e; $(VENV)/pytest $(1); code=$$?; \
	if [ $$code -eq 5 ]; then echo "[plume] ERROR: pytest collected no tests in $(1)" >&2; fi; \
	exit $$code
endef

test: up ## the whole suite (unit, integration, e2e) against the running stack
	$(call run_pytest,tests)

test-unit: venv ## unit tests only; no stack needed
	$(call run_pytest,tests/unit)

lint: venv
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy services shared tests

bench: up
	$(VENV)/python -m bench

clean: ## stop the stack and remove all its state
	@deploy/local/clean.sh
