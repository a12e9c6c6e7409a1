# Thin wrappers over Nx targets and scripts/. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SHELLFLAGS := -euo pipefail -c

# Node 24 from the npm registry when the machine's Node is older (cached in ~/.cache/toolbus).
NODE_BIN := $(shell scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)
export npm_config_nodedir := $(patsubst %/bin,%,$(NODE_BIN))
export NX_DAEMON := false
export NX_NO_CLOUD := true
export NX_TUI := false
export TZ := UTC
NX := npx nx

# Image names: $(REGISTRY)/toolbus-<service>:$(VERSION), the chart's appVersion by default.
REGISTRY ?= ghcr.io/toolbus
VERSION ?= $(shell sed -n "s/^appVersion: *['\"]\{0,1\}\([^'\"]*\).*/\1/p" charts/toolbus/Chart.yaml)
# The images run the Node.js that scripts/ensure-node.sh fetches: .node-version, read by lib.sh.
NODE_VERSION := $(shell source scripts/lib.sh && echo "$$NODE_VERSION")

.PHONY: help setup build up test lint format bench schemas infra-up infra-down infra-status clean charts images

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Install everything needed (idempotent): Node 24, npm deps, PostgreSQL, Redis, Kafka
	@scripts/setup.sh

build: setup ## Build every project
	@$(NX) run-many -t build --outputStyle=static

up: build ## Run the embedded platform on 127.0.0.1 (in-memory bus, PGlite): model shim :8080, registry :8081
	@scripts/up.sh

test: ## Setup, start Kafka/PostgreSQL/Redis, run every tier (static, unit, integration, e2e), stop them
	@scripts/test.sh

lint: setup ## ESLint (with module boundaries), typecheck and Prettier check
	@$(NX) run-many -t lint typecheck --outputStyle=static
	@npx prettier --check .

format: setup ## Format everything with Prettier
	@npx prettier --write .

bench: setup ## Benchmarks (real Kafka on loopback); prints a table of ratios against a baseline
	@scripts/bench.sh

schemas: setup ## Regenerate libs/contracts/schemas/*.schema.json from the zod schemas
	@$(NX) run contracts:schemas --outputStyle=static

charts: setup ## Chart tests: lint, render, unit suites, schema and policy checks
	@scripts/charts/test.sh

images: ## Build every service image from scripts/charts/Dockerfile.service (needs a Docker engine; none here)
	@docker info >/dev/null 2>&1 || { echo "make images: no Docker engine (docker info failed); build where one runs" >&2; exit 1; }
	@for main in services/*/src/main.ts services/tool-consumers/*/src/main.ts; do \
	  service=$$(dirname "$$(dirname "$$main")"); service=$${service#services/}; \
	  name=$$(basename "$$service"); \
	  echo "building $(REGISTRY)/toolbus-$$name:$(VERSION) (SERVICE=$$service)"; \
	  docker build -f scripts/charts/Dockerfile.service --build-arg SERVICE="$$service" \
	    --build-arg NODE_VERSION=$(NODE_VERSION) --build-arg VERSION=$(VERSION) \
	    -t "$(REGISTRY)/toolbus-$$name:$(VERSION)" . || exit 1; \
	done

infra-up: setup ## Start Kafka, PostgreSQL and Redis on 127.0.0.1 (no-op when already up)
	@scripts/infra.sh up
	@echo "export these to use it:"; scripts/infra.sh env | sed 's/^/  export /'

infra-down: ## Stop Kafka, PostgreSQL and Redis and delete their data
	@scripts/infra.sh down

infra-status: ## Show whether Kafka, PostgreSQL and Redis are up
	@scripts/infra.sh status

clean: ## Remove build output and reports
	@rm -rf reports .nx libs/*/dist services/*/dist services/tool-consumers/*/dist
