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
# The chart's install test (tests/e2e/test_chart_install.py) runs a real etcd + kube-apiserver on loopback.
# kube-apiserver is built from the Go module proxy through the wrapper module in K8S_MODULE, whose go.mod
# pins the version; the binary is named after it, so a version bump builds a new one.
K8S_MODULE   := deploy/helm/e2e/k8s
K8S_VERSION  := $(shell awk '$$1 == "require" && $$2 == "k8s.io/kubernetes" {print $$3}' $(K8S_MODULE)/go.mod)
KUBE_APISERVER := $(CACHE)/bin/kube-apiserver-$(K8S_VERSION)
ETCD         ?= $(or $(shell command -v etcd 2>/dev/null),/usr/bin/etcd)
PY           := .venv/bin/python
PROTO_OUT    := libs/protos/src
PROTO_FILES  := $(shell find proto -name '*.proto')
export INTERLOOP_KAFKA_LIBS := $(KAFKA_LIBS)
export INTERLOOP_KUBE_APISERVER := $(KUBE_APISERVER)
export INTERLOOP_ETCD := $(ETCD)
export HELM

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

.PHONY: cluster-tools
cluster-tools: $(ETCD) $(KUBE_APISERVER) $(HELM) ## etcd (Debian), kube-apiserver and helm (Go module proxy) for the chart install test

# etcd-server from Debian/Ubuntu; skipped when an etcd is already on PATH. apt-get update only if the
# package lists do not know it yet.
$(ETCD):
	@command -v apt-get >/dev/null || { echo "etcd is missing: install etcd 3.4+ (Debian/Ubuntu: etcd-server) and rerun"; exit 1; }
	@[[ $$(id -u) == 0 ]] || { echo "etcd is missing: run 'sudo apt-get install -y --no-install-recommends etcd-server' and rerun"; exit 1; }
	@echo "installing etcd-server (apt-get)"
	@export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq --no-install-recommends etcd-server >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends etcd-server >/dev/null; }
	@test -x $@ || { echo "etcd-server installed no $@; set ETCD=/path/to/etcd"; exit 1; }

# The -X flags give the binary its real version: without them it reports v0.0.0-master and Helm refuses
# the chart (kubeVersion >=1.27.0-0). Built once (about 9 min cold on 2 cores), then reused.
K8S_VERSION_PKG := k8s.io/component-base/version
K8S_LDFLAGS := -s -w -X $(K8S_VERSION_PKG).gitVersion=$(K8S_VERSION) \
	-X $(K8S_VERSION_PKG).gitMajor=$(word 1,$(subst ., ,$(K8S_VERSION:v%=%))) \
	-X $(K8S_VERSION_PKG).gitMinor=$(word 2,$(subst ., ,$(K8S_VERSION:v%=%))) \
	-X $(K8S_VERSION_PKG).gitTreeState=clean -X $(K8S_VERSION_PKG).buildDate=1970-01-01T00:00:00Z \
	-X $(K8S_VERSION_PKG).gitCommit=0000000000000000000000000000000000000000
# One rule for every Kubernetes binary: $(CACHE)/bin/kube-apiserver-v1.34.4 builds cmd/kube-apiserver.
$(CACHE)/bin/kube%-$(K8S_VERSION):
	@command -v go >/dev/null || { echo "Go is missing: install it to build kube$*, then rerun"; exit 1; }
	@echo "building kube$* $(K8S_VERSION) from the Go module proxy (once; kube-apiserver about 9 min cold on 2 cores)"
	@mkdir -p $(@D)
	@cd $(K8S_MODULE) && CGO_ENABLED=0 go build -trimpath -ldflags '$(K8S_LDFLAGS)' -o $@.tmp k8s.io/kubernetes/cmd/kube$*
	@mv $@.tmp $@

# The local node (tests/e2e/test_cluster_node.py, `make cluster-test`): the other Kubernetes binaries from
# the same wrapper module, CoreDNS from the Go module proxy, containerd/runc/CNI and the image tools
# (buildah, podman, mmdebstrap) from Debian.
COREDNS_VERSION := v1.12.4
COREDNS      := $(CACHE)/bin/coredns-$(COREDNS_VERSION)
NODE_BINS    := $(foreach b,kube-controller-manager kube-scheduler kubelet kube-proxy,$(CACHE)/bin/$(b)-$(K8S_VERSION))
NODE_PACKAGES := containerd runc containernetworking-plugins iptables conntrack buildah podman mmdebstrap uidmap fuse-overlayfs
NODE_COMMANDS := containerd ctr runc buildah podman mmdebstrap iptables conntrack
export INTERLOOP_COREDNS := $(COREDNS)

.PHONY: node-tools
node-tools: cluster-tools $(NODE_BINS) $(COREDNS) ## everything the local-node tier needs (binaries cached, packages from apt)
	@missing=$$(for c in $(NODE_COMMANDS); do command -v $$c >/dev/null || echo $$c; done; [[ -x /usr/lib/cni/bridge ]] || echo cni-plugins); \
	if [[ -n "$$missing" ]]; then \
		command -v apt-get >/dev/null && [[ $$(id -u) == 0 ]] || { echo "node-tools: missing $$missing: install $(NODE_PACKAGES) (Debian names) and rerun"; exit 1; }; \
		echo "installing $(NODE_PACKAGES) (apt-get)"; export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends $(NODE_PACKAGES) >/dev/null \
			|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(NODE_PACKAGES) >/dev/null; }; \
	fi

$(COREDNS):
	@command -v go >/dev/null || { echo "Go is missing: install it to build CoreDNS, then rerun"; exit 1; }
	@echo "building CoreDNS $(COREDNS_VERSION) from the Go module proxy (once; about 4 min cold on 2 cores)"
	@rm -rf $(CACHE)/coredns-build && GOBIN=$(CACHE)/coredns-build CGO_ENABLED=0 go install github.com/coredns/coredns@$(COREDNS_VERSION)
	@mkdir -p $(@D) && mv $(CACHE)/coredns-build/coredns $@ && rm -rf $(CACHE)/coredns-build

# The local-node tier is slow (images, a node, two installs and the day-2 checks), so make test runs it
# when what it tests changed: the chart, the image recipe, the lock file, or the node harness. A pass is
# remembered under $(CACHE)/cluster-test, keyed by their content (working tree, so an edit not yet committed
# counts); `make cluster-test` always runs it.
CLUSTER_INPUTS := deploy uv.lock .dockerignore libs/devstack/src/interloop_devstack/node.py tests/e2e/test_cluster_node.py
CLUSTER_STAMP = $(CACHE)/cluster-test/$(shell git ls-files -z $(CLUSTER_INPUTS) | xargs -0 sha256sum | sha256sum | cut -c1-16)

.PHONY: cluster-test
cluster-test: install node-tools ## build the images, run a local Kubernetes node, install the chart there, helm test, upgrade, rollback
	@INTERLOOP_CLUSTER_TEST=1 $(PY) -m pytest -p no:randomly -q -rA tests/e2e/test_cluster_node.py $(PYTEST_ARGS)
	@mkdir -p $(dir $(CLUSTER_STAMP)) && touch $(CLUSTER_STAMP)

.PHONY: cluster-test-if-changed
cluster-test-if-changed:
	@if [[ -f $(CLUSTER_STAMP) ]]; then \
		echo "cluster-test: passed before for this chart, image recipe, lock file and harness ($(CLUSTER_STAMP)); run make cluster-test to repeat"; \
	else $(MAKE) --no-print-directory cluster-test; fi

.PHONY: run
run: install ## start PostgreSQL, Kafka and the four services with a demo tenant (Ctrl-C stops all)
	@.venv/bin/interloop dev up --seed-demo

.PHONY: test
test: install cluster-tools ## run every test (unit, contract, integration, e2e), the Helm checks and the linters
	@$(MAKE) --no-print-directory helm-test
	@$(MAKE) --no-print-directory lint
	@$(PY) -m pytest -p no:randomly -q $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory cluster-test-if-changed

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
