#!/usr/bin/env bash
# The four service images from deploy/docker/Dockerfile, unmodified, without a Docker engine or a registry:
#   1. a stand-in for python:3.11-slim-bookworm, assembled from Debian packages with mmdebstrap (no registry
#      is reachable here; elsewhere `docker build` pulls the official base and gives the same image);
#   2. `buildah bud` of the Dockerfile per service (chroot isolation, host network for PyPI);
#   3. each image saved as a docker-archive tarball the cluster's containerd imports.
# Everything is cached under $CACHE/images, keyed by the content of what goes into it: the base by this
# script, the service images by the Dockerfile, the lock file and the sources they copy. A warm run builds
# nothing. Prints the directory holding the archives (<service>.tar, pause.tar).
#
# Usage: deploy/helm/e2e/node/images.sh [TAG]        (TAG defaults to the chart's appVersion)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
CACHE=${CACHE:-$HOME/.cache/interloop}
HERE=$ROOT/deploy/helm/e2e/node
TAG=${1:-$(awk '$1 == "appVersion:" {gsub(/"/, "", $2); print $2}' "$ROOT/deploy/helm/interloop/Chart.yaml")}
SERVICES=(gateway scheduler scorecard sync)
STORE=$CACHE/containers
mkdir -p "$STORE" "$CACHE/images"
log() { echo "images: $*" >&2; }

# Podman/buildah storage and settings of our own, outside the user's. Two settings work around sandboxes
# that refuse to raise rlimits and run cgroup v1 with a cgroup2 hybrid (harmless elsewhere).
cat > "$STORE/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$STORE/storage"
runroot = "$STORE/run"
CONF
cat > "$STORE/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_STORAGE_CONF=$STORE/storage.conf CONTAINERS_CONF=$STORE/containers.conf BUILDAH_ISOLATION=chroot
for tool in buildah podman mmdebstrap gcc; do
  command -v $tool >/dev/null || { echo "images: $tool is missing (make node-tools installs it)" >&2; exit 1; }
done

# 1. The base. The host's extra CAs (a TLS-inspecting egress proxy) go into it so pip/uv reach PyPI;
#    EXTERNALLY-MANAGED goes so pip can install uv system-wide, as in the official image.
BASE_KEY=$(sha256sum "$0" | cut -c1-16)
BASE=$CACHE/images/base-$BASE_KEY
BASE_REF=docker.io/library/python:3.11-slim-bookworm
if ! buildah inspect --type image "$BASE_REF" 2>/dev/null | grep -q "interloop.base=$BASE_KEY"; then
  if [[ ! -f $BASE/rootfs.tar ]]; then
    log "assembling the base with mmdebstrap (once; about 2 min)"
    mkdir -p "$BASE"
    mmdebstrap --quiet --variant=minbase --format=tar \
      --include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates,tzdata,netbase \
      bookworm "$BASE/rootfs.tar.tmp" http://deb.debian.org/debian
    mv "$BASE/rootfs.tar.tmp" "$BASE/rootfs.tar"
  fi
  ctx=$(mktemp -d)
  mkdir -p "$ctx/ca"
  cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
  cat > "$ctx/Containerfile" <<CONF
FROM localhost/interloop-debian-rootfs:$BASE_KEY
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt LANG=C.UTF-8
LABEL interloop.base=$BASE_KEY
CMD ["python3"]
CONF
  podman import --quiet "$BASE/rootfs.tar" "localhost/interloop-debian-rootfs:$BASE_KEY" >/dev/null
  buildah bud --quiet --isolation chroot -t "$BASE_REF" "$ctx" >/dev/null
  rm -rf "$ctx"
fi

# The pod sandbox image kubelet asks for (no registry): a static pause, as registry.k8s.io/pause does.
PAUSE=$CACHE/images/pause-$BASE_KEY.tar
if [[ ! -f $PAUSE ]]; then
  ctx=$(mktemp -d)
  cat > "$ctx/pause.c" <<'C'
#include <signal.h>
#include <unistd.h>
static void die(int s) { (void)s; _exit(0); }
int main(void) { signal(SIGINT, die); signal(SIGTERM, die); for (;;) pause(); }
C
  gcc -static -O2 -o "$ctx/pause" "$ctx/pause.c"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' > "$ctx/Containerfile"
  buildah bud --quiet --isolation chroot -t registry.k8s.io/pause:3.10 "$ctx" >/dev/null
  podman save --quiet --format docker-archive -o "$PAUSE.tmp" registry.k8s.io/pause:3.10
  mv "$PAUSE.tmp" "$PAUSE"
  rm -rf "$ctx"
fi

# 2. The services: keyed by every tracked file the Dockerfile copies (and the Dockerfile itself).
cd "$ROOT"
SRC_KEY=$( { echo "$BASE_KEY $TAG"; git ls-files -z -- deploy/docker pyproject.toml uv.lock buf.yaml proto libs services \
  | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
OUT=$CACHE/images/$SRC_KEY
mkdir -p "$OUT"
ln -sf "$PAUSE" "$OUT/pause.tar"
for svc in "${SERVICES[@]}"; do
  [[ -f $OUT/$svc.tar ]] && continue
  ref=ghcr.io/interloop/$svc:$TAG
  log "building $ref"
  s=$SECONDS
  buildah bud --quiet --isolation chroot --network host --layers=false --pull=never \
    -f deploy/docker/Dockerfile --build-arg SERVICE="$svc" -t "$ref" . > "$OUT/build-$svc.log" 2>&1 \
    || { echo "images: building $svc failed; the end of $OUT/build-$svc.log:" >&2; tail -20 "$OUT/build-$svc.log" >&2; exit 1; }
  podman save --quiet --format docker-archive -o "$OUT/$svc.tar.tmp" "$ref"
  mv "$OUT/$svc.tar.tmp" "$OUT/$svc.tar"
  log "built $ref in $((SECONDS - s))s"
done
# Older service builds are dropped (the base and pause stay): one set of archives per cache.
find "$CACHE/images" -mindepth 1 -maxdepth 1 -type d -name '????????????????' ! -name "$SRC_KEY" -exec rm -rf {} +
echo "$OUT"
