# Run `make help` for the targets. Everything runs from the project's own .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: help install prerequisites run test test-fast lint format clean bench bench-short load screenshot

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[usermgmt,notification,xray-local,bench,load,test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the services with their test tools

prerequisites: ## Install what the tests need besides Python (wrk, Chromium, Docker, ...); start dockerd
	@bash scripts/prerequisites.sh

run: install ## Start notification V1, user management and a local X-Ray daemon
	$(BIN)/python scripts/run_local.py

test: prerequisites install lint ## Lint, type-check and run the whole test suite (needs MariaDB)
	$(BIN)/pytest

# Everything that runs in-process: tests/support/fast_lane.py refuses subprocesses, database
# servers and the network, and says how long the lane took.
FAST_TESTS := tests/unit tests/bench/test_wrk_output.py \
	$(addprefix tests/xray_local/test_,analysis.py aws_rules.py documents.py filter_guide.py \
	filters.py graph.py otlp_http.py sampling.py store.py)

test-fast: install ## The in-process tests alone, in seconds: no database, no subprocess, no network
	$(BIN)/pytest -p tests.support.fast_lane $(FAST_TESTS)

bench: install ## Benchmarks: the local daemon, then tracing's cost on the call chain (needs wrk, MariaDB)
	$(BIN)/python -m scripts.bench_xray_local
	$(BIN)/python -m scripts.bench_tracing

bench-short: install ## Tracing's cost on the call chain, one short round, as CI runs it
	$(BIN)/python -m scripts.bench_tracing --short

# make load: against `make run` by default; LOAD_HOST=https://... for compose or EKS.
LOAD_HOST ?= http://localhost:8095
USERS ?= 10
RATE ?= 20
DURATION ?= 1m

load: install ## Locust against a running stack: LOAD_HOST, USERS, RATE (req/s in all), DURATION
	$(BIN)/locust -f load/locustfile.py --headless --only-summary --host $(LOAD_HOST) \
	  --users $(USERS) --spawn-rate $(USERS) --rate $(RATE) --run-time $(DURATION)

screenshot: install ## Save the running local daemon's service map page to .run/map.png
	$(BIN)/python -m tests.support.chromium screenshot http://127.0.0.1:2000/ .run/map.png

lint: install ## ruff and mypy
	$(BIN)/ruff check services tests scripts load
	$(BIN)/ruff format --check services tests scripts load
	$(BIN)/mypy

format: install ## Apply ruff's formatting and fixes
	$(BIN)/ruff format services tests scripts load
	$(BIN)/ruff check --fix services tests scripts load

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .run

# --- Images and EKS (docs/compose.md, docs/eks.md) ---------------------------------------
.PHONY: images push deploy canary undeploy
REGISTRY ?= $(if $(and $(AWS_ACCOUNT_ID),$(AWS_REGION)),$(AWS_ACCOUNT_ID).dkr.ecr.$(AWS_REGION).amazonaws.com)
IMAGE_PREFIX = $(if $(REGISTRY),$(REGISTRY)/)xray-fastapi
TAG ?= $(shell git describe --tags --always)
PLATFORMS ?= linux/amd64,linux/arm64
IMAGES := usermgmt notification-v1 notification-v2 xray-local
# Everything an image is built from: a change there must be committed before its tag is pushed.
IMAGE_INPUTS := services docker pyproject.toml .dockerignore

define build_images
	docker buildx build --platform $(PLATFORMS) $(1) -f docker/usermgmt.Dockerfile -t $(IMAGE_PREFIX)/usermgmt:$(TAG) .
	docker buildx build --platform $(PLATFORMS) $(1) -f docker/notification.Dockerfile --build-arg APP_VERSION=V1 -t $(IMAGE_PREFIX)/notification-v1:$(TAG) .
	docker buildx build --platform $(PLATFORMS) $(1) -f docker/notification.Dockerfile --build-arg APP_VERSION=V2 -t $(IMAGE_PREFIX)/notification-v2:$(TAG) .
	docker buildx build --platform $(PLATFORMS) $(1) -f docker/xray-local.Dockerfile -t $(IMAGE_PREFIX)/xray-local:$(TAG) .
endef

images: ## Build every image for linux/amd64 and linux/arm64 (docker buildx)
	$(call build_images,)

push: ## Build and push every image to ECR (AWS_ACCOUNT_ID, AWS_REGION; tag from git)
	@test -n "$(REGISTRY)" || { echo "set AWS_ACCOUNT_ID and AWS_REGION (or REGISTRY)"; exit 2; }
	@test -z "$$(git status --porcelain -- $(IMAGE_INPUTS))" || { echo "commit your changes (and untracked files) first: tag $(TAG) would not name what is built"; exit 2; }
	aws ecr get-login-password --region $(AWS_REGION) | docker login --username AWS --password-stdin $(REGISTRY)
	for image in $(IMAGES); do \
	  aws ecr describe-repositories --region $(AWS_REGION) --repository-names xray-fastapi/$$image >/dev/null 2>&1 \
	  || aws ecr create-repository --region $(AWS_REGION) --repository-name xray-fastapi/$$image >/dev/null; \
	done
	$(call build_images,--push)

deploy: install ## kubectl apply -k k8s/base (OVERLAY=sidecar, otel-canary, otel: k8s/overlays/...) with the pushed images
	$(BIN)/python scripts/k8s_deploy.py --registry "$(REGISTRY)" --tag "$(TAG)" $(if $(OVERLAY),--overlay $(OVERLAY))

canary: install ## Shift notification traffic between versions: make canary V1=3 V2=1 [OVERLAY=otel-canary]
	@test -n "$(V1)" -a -n "$(V2)" || { echo "usage: make canary V1=3 V2=1 [OVERLAY=otel-canary]"; exit 2; }
	$(BIN)/python scripts/k8s_deploy.py --registry "$(REGISTRY)" --tag "$(TAG)" --canary $(V1) $(V2) $(if $(OVERLAY),--overlay $(OVERLAY))

undeploy: ## kubectl delete -k k8s/base, or OVERLAY's (the ALB goes with the Ingress)
	kubectl delete -k k8s/$(if $(OVERLAY),overlays/$(OVERLAY),base) --ignore-not-found
