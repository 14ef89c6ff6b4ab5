# Interloop — `make run` brings the platform up locally, `make test` runs every test.
# Everything the two need is installed here, into caches outside git (~/.cache/interloop).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CACHE        ?= $(HOME)/.cache/interloop
UV_VERSION   := 0.13.8
HELM_VERSION := v3.19.0
KAFKA_VERSION := 3.9.2
UV           := $(CACHE)/uv/bin/uv
HELM         := $(CACHE)/bin/helm
KAFKA_LIBS   := $(CACHE)/kafka-$(KAFKA_VERSION)/libs
PY           := .venv/bin/python
PROTO_OUT    := libs/protos/src
PROTO_FILES  := $(shell find proto -name '*.proto')
export INTERLOOP_KAFKA_LIBS := $(KAFKA_LIBS)

.PHONY: help
help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(UV):
	@python3 -m venv $(CACHE)/uv
	@$(CACHE)/uv/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml $(wildcard apps/*/pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml)
	@$(UV) sync --frozen --all-packages --python python3.11
	@touch $@

.PHONY: install
install: .venv/.synced proto kafka ## install the workspace, generate code, fetch the Kafka broker

.PHONY: proto
proto: $(PROTO_OUT)/interloop/.generated ## generate Python code from proto/ (git-ignored)

$(PROTO_OUT)/interloop/.generated: .venv/.synced $(PROTO_FILES) buf.yaml
	@rm -rf $(PROTO_OUT)/interloop/*/
	@.venv/bin/buf lint
	@$(PY) -m grpc_tools.protoc -Iproto --python_out=$(PROTO_OUT) --pyi_out=$(PROTO_OUT) \
		--grpc_python_out=$(PROTO_OUT) $(PROTO_FILES)
	@find $(PROTO_OUT)/interloop -mindepth 1 -type d -exec touch {}/__init__.py \;
	@touch $@

.PHONY: kafka
kafka: $(KAFKA_LIBS)/.resolved ## resolve the Apache Kafka broker jars from Maven Central

$(KAFKA_LIBS)/.resolved: libs/devstack/kafka/pom.xml
	@command -v mvn >/dev/null || { echo "Maven (mvn) is missing: install it (apt-get install maven) and rerun"; exit 1; }
	@command -v java >/dev/null || { echo "Java 17+ is missing: install it (apt-get install openjdk-17-jre-headless) and rerun"; exit 1; }
	@mvn -q -B -f libs/devstack/kafka/pom.xml dependency:copy-dependencies \
		-DoutputDirectory=$(KAFKA_LIBS) -DincludeScope=runtime -Dkafka.version=$(KAFKA_VERSION)
	@touch $@

$(HELM):
	@command -v go >/dev/null || { echo "Go is missing: install it to build helm, then rerun"; exit 1; }
	@GOBIN=$(CACHE)/bin go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: run
run: install ## start PostgreSQL, Kafka and the four services with a demo tenant (Ctrl-C stops all)
	@.venv/bin/interloop dev up --seed-demo

.PHONY: test
test: install $(HELM) ## run every test (unit, contract, integration, e2e), the Helm checks and the linters
	@$(MAKE) --no-print-directory helm-test
	@$(MAKE) --no-print-directory lint
	@$(PY) -m pytest -p no:randomly -q $(PYTEST_ARGS)

.PHONY: helm-test
helm-test: $(HELM) .venv/.synced ## lint, render and validate the Helm chart
	@HELM=$(HELM) KUBERNETES_VALIDATE=.venv/bin/kubernetes-validate bash deploy/helm/test.sh

.PHONY: lint
lint: install ## ruff (check + format) + buf lint + buf breaking against the last commit on main
	@.venv/bin/ruff check --quiet .
	@.venv/bin/ruff format --check --quiet .
	@.venv/bin/buf lint
	@if git rev-parse --verify -q main~0 >/dev/null; then .venv/bin/buf breaking --against '.git#branch=main'; fi
	@echo "lint                                     ok (ruff check, ruff format, buf lint, buf breaking)"

.PHONY: bench
bench: install ## run the benchmarks (ratios against anchors measured in the same run)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

.PHONY: clean
clean: ## remove generated code and the local dev-stack state
	@rm -rf $(PROTO_OUT)/interloop/*/ $(PROTO_OUT)/interloop/.generated .devstack
