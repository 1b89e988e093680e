# Trading platform DR — one entry point for tests, the offline plan and deployments.
# Order of deployment: data -> each region (primary first) -> edge. Destroy in reverse.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# $(call q,VALUE): VALUE as one single-quoted shell word, whatever it contains (' as '\'').
q = '$(subst ','\'',$(1))'

.PHONY: help venv test lint plan policy build

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv from pyproject.toml

test: $(STAMP) ## unit, contract, handler, policy and tooling tests, plus a plan of dev and prod
	$(PY) -m pytest -q -n 2 --dist loadgroup
	@command -v node >/dev/null || { echo "make test: node >= 20 is needed for the canary tests (projects/edge/canary)"; exit 1; }
	node --test projects/edge/canary/
	$(MAKE) --no-print-directory plan-all

# STYLE 17: mypy on shared/ and tools/, every function folder and every Pulumi program (its
# __main__.py and component packages). One run per folder: each function has a top-level
# handler.py and each program a __main__.py, a module name one mypy run holds only once.
# trading_runtime (copied into every archive) resolves from the regional functions/common.
COMMON_FUNCTIONS_DIR := projects/region/functions/common
FUNCTION_DIRS := $(sort $(dir $(wildcard projects/*/functions/*/handler.py))) $(COMMON_FUNCTIONS_DIR)/
PROGRAM_DIRS := $(sort $(dir $(wildcard projects/*/__main__.py)))

lint: $(STAMP) ## ruff (lint + format check) and mypy (shared, tools, function folders, programs)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy shared tools
	@set -e; for dir in $(FUNCTION_DIRS); do \
	  echo "MYPYPATH=$(COMMON_FUNCTIONS_DIR) mypy $$dir"; \
	  MYPYPATH=$(COMMON_FUNCTIONS_DIR) $(PY) -m mypy $$dir; \
	done
	@set -e; for dir in $(PROGRAM_DIRS); do \
	  packages=$$(for init in $$dir*/__init__.py; do dirname $$init; done); \
	  echo "MYPYPATH=$$dir mypy $${dir}__main__.py" $$packages; \
	  MYPYPATH=$$dir $(PY) -m mypy $${dir}__main__.py $$packages; \
	done

plan: $(STAMP) ## offline plan of ENV (default dev) -> build/plan/*.json + SUMMARY.md
	$(PY) -m shared.plan --env $(call q,$(ENV))

# api/processor serve every region stack of ENV; runtime and architecture come from their stack
# files (trading-region:lambdaRuntime / lambdaArchitecture). failover (the edge orchestrator) is
# built for the runtime/architecture the edge program deploys it with. make plan needs no build:
# without archives the plan uses the code-only source folders, and a deployment refuses to run.
# BUILD_ARGS: extra flags, e.g. BUILD_ARGS='--no-deps --output /tmp/fn' (offline, elsewhere).
BUILD_ARGS ?=
build: $(STAMP) ## Lambda archives (code + deps): api, processor (ENV's region stacks), failover (edge)
	$(PY) tools/build_functions.py --env $(call q,$(ENV))$(if $(BUILD_ARGS), $(BUILD_ARGS))

plan-all: $(STAMP)
	$(PY) -m shared.plan --env dev --env prod

policy: $(STAMP) ## apply the policy rules to PLAN=<plan file>
	@test -n "$(PLAN)" || { echo "usage: make policy PLAN=build/plan/trading-data.dev.json" >&2; exit 2; }
	$(PY) -m shared.policy $(PLAN)

# --- deploy: Pulumi CLI targets (SPEC M2, §4) ------------------------------------------------
# tools/deploy.py holds the logic (regions from projects/data/Pulumi.$(ENV).yaml, refusals,
# default backend under .pulumi-state/, exact CLI lines); these targets only pass ENV/REGION.
# Order: data -> primary region -> secondary region -> edge; destroy-all runs the reverse.
# deploy-region / deploy-edge / deploy-all build the function archives first (make build), after
# a --check that refuses bad ENV/REGION, a missing CLI or passphrase before that slow build
# (prerequisites run left to right; do not use make -j for these targets).
REGION ?=
PULUMI_ARGS ?=
DEPLOY := $(PY) tools/deploy.py
# --opt=VALUE: a value starting with "-" (PULUMI_ARGS=--diff) is not taken for an option.
DEPLOY_VARS = --env=$(call q,$(ENV)) --pulumi-args=$(call q,$(PULUMI_ARGS))
DEPLOY_REGION = --region=$(call q,$(REGION))

.PHONY: deploy-data preview-data destroy-data deploy-region preview-region destroy-region \
	deploy-edge preview-edge destroy-edge deploy-all destroy-all

deploy-data: $(STAMP) ## pulumi up of trading-data, stack ENV
	@$(DEPLOY) up data $(DEPLOY_VARS)

preview-data: $(STAMP) ## pulumi preview of trading-data, stack ENV
	@$(DEPLOY) preview data $(DEPLOY_VARS)

destroy-data: $(STAMP) ## pulumi destroy of trading-data, stack ENV
	@$(DEPLOY) destroy data $(DEPLOY_VARS)

deploy-region: $(STAMP) check-up-region build ## pulumi up of trading-region, stack ENV-REGION (a region of ENV)
	@$(DEPLOY) up region $(DEPLOY_VARS) $(DEPLOY_REGION)

preview-region: $(STAMP) ## pulumi preview of trading-region, stack ENV-REGION
	@$(DEPLOY) preview region $(DEPLOY_VARS) $(DEPLOY_REGION)

destroy-region: $(STAMP) ## pulumi destroy of trading-region, stack ENV-REGION
	@$(DEPLOY) destroy region $(DEPLOY_VARS) $(DEPLOY_REGION)

deploy-edge: $(STAMP) check-up-edge build ## pulumi up of trading-edge, stack ENV (make build first)
	@$(DEPLOY) up edge $(DEPLOY_VARS)

preview-edge: $(STAMP) ## pulumi preview of trading-edge, stack ENV
	@$(DEPLOY) preview edge $(DEPLOY_VARS)

destroy-edge: $(STAMP) ## pulumi destroy of trading-edge, stack ENV
	@$(DEPLOY) destroy edge $(DEPLOY_VARS)

deploy-all: $(STAMP) check-up-all build ## up ENV: data -> primary region -> secondary region -> edge
	@$(DEPLOY) up all $(DEPLOY_VARS) $(DEPLOY_REGION)

destroy-all: $(STAMP) ## destroy ENV in reverse: edge -> secondary -> primary -> data
	@$(DEPLOY) destroy all $(DEPLOY_VARS) $(DEPLOY_REGION)

# Not phony (phony targets skip pattern rules); no file of these names is ever made.
check-up-%: $(STAMP)
	@$(DEPLOY) up $* $(DEPLOY_VARS) $(DEPLOY_REGION) --check

.PHONY: drill
drill: $(STAMP) ## game day: lose the primary on a local emulator; the real orchestrator recovers
	$(PY) -m drill $(DRILL_ARGS)
# --- end deploy --------------------------------------------------------------------------------
