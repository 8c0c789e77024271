# plume's local stack and checks. Every port and PLUME_HOME can be overridden from the
# environment (see README); the scripts live in deploy/local/.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin
comma := ,
# What make runs after `make up` (pytest, bench, demo) finds the stack on overridden ports too.
# With PLUME_KAFKA_BROKERS=3, every node of the cluster (node i on PLUME_KAFKA_PORT + 2(i-1)).
KAFKA_PORT := $(or $(PLUME_KAFKA_PORT),9092)
KAFKA_NODE_PORTS := $(shell for i in $$(seq 1 $(or $(PLUME_KAFKA_BROKERS),1)); do echo $$(($(KAFKA_PORT) + 2 * (i - 1))); done)
export PLUME_KAFKA_BOOTSTRAP ?= $(subst $(eval) ,$(comma),$(addprefix 127.0.0.1:,$(KAFKA_NODE_PORTS)))
export PLUME_DATABASE_URL ?= postgresql://plume:plume@127.0.0.1:$(or $(PLUME_PG_PORT),5432)/plume

.PHONY: help install venv up down status test test-unit lint bench demo chaos clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed -E 's/^([a-z-]+):.*## /  make \1\t/' | expand -t 20

install: ## Debian packages, JDK check, Kafka jars, .venv
	@deploy/local/install.sh

venv: ## .venv only (enough for unit tests and lint)
	@deploy/local/install.sh python

up: install ## start what is not running; print where everything listens
	@deploy/local/up.sh

down: ## stop everything `make up` started; data stays
	@deploy/local/down.sh

status: ## what runs where
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

lint: venv ## ruff check, ruff format --check, mypy --strict, import contracts (lint-imports)
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy services shared tests ops bench
	$(VENV)/lint-imports

bench: up ## benchmarks: figures beside floors measured in the same run
	$(VENV)/python -m bench $(BENCH_ARGS)

demo: up ## a compressed 10 December against the local stack (ops/demo.py; ARGS="--no-cut ...")
	$(VENV)/python -m ops.demo $(ARGS)

chaos: up ## crash and stop each part of the stack under load, then verify (ops/chaos.py)
	$(VENV)/python -m ops.chaos $(ARGS)

clean: ## stop the stack and remove all its state
	@deploy/local/clean.sh
