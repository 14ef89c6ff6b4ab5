#!/usr/bin/env bash
# Regenerates the Go partner client (clients/go/interloop/**) from proto/ with buf.gen.go.yaml. The plugins
# are pinned below and installed from the Go module proxy into the cache outside git when missing, so the
# output is the same on every machine: tests/e2e/test_partner_clients.py regenerates it and compares.
#
#   clients/generate.sh            # rewrite the checked-in client
#   clients/generate.sh DIR        # write DIR/clients/go/interloop/** instead (the freshness test)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-$ROOT}" && cd "${1:-$ROOT}" && pwd)
BIN=${INTERLOOP_CACHE:-$HOME/.cache/interloop}/bin
BUF=${BUF:-$ROOT/.venv/bin/buf}
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

# Installs the plugin module@version into $BIN unless that version is there already.
plugin() {
	local name=${1%@*} version=${1#*@}
	name=${name##*/}
	# `protoc-gen-go --version` says "protoc-gen-go v1.36.12", protoc-gen-go-grpc says "... 1.6.2".
	local have
	have=$("$BIN/$name" --version 2>/dev/null | awk '{print $NF}') || true
	if [[ "${have#v}" != "${version#v}" ]]; then
		command -v go >/dev/null || { echo "Go is missing: install Go 1.24+ to build $name, then rerun" >&2; exit 1; }
		echo "installing $name $version into $BIN (Go module proxy)" >&2
		mkdir -p "$BIN"
		GOBIN=$BIN go install "$1"
	fi
}

[[ -x "$BUF" ]] || { echo "buf is missing at $BUF: run 'make install' (or set BUF=/path/to/buf)" >&2; exit 1; }
plugin "$PROTOC_GEN_GO"
plugin "$PROTOC_GEN_GO_GRPC"

# Only the generated tree is replaced: go.mod, go.sum and examples/ beside it are kept.
rm -rf "$OUT/clients/go/interloop"
cd "$ROOT"
PATH="$BIN:$PATH" "$BUF" generate --template buf.gen.go.yaml --output "$OUT"
