#!/usr/bin/env bash
# Lint, render and validate the Interloop chart; `make helm-test` runs it from the repo root.
#   HELM                 helm v3 binary        (default /root/.cache/interloop/bin/helm)
#   KUBERNETES_VALIDATE  kubernetes-validate   (default .venv/bin/kubernetes-validate)
#   KUBE_VERSION         Kubernetes version to render and validate against (default 1.33.0)
#                        (passed to helm too: a `go install`ed helm has no build-time k8s version and
#                        would otherwise assume v1.20, below the chart's kubeVersion >=1.27)
# Prints one line per step; exits non-zero on the first failure.
set -euo pipefail

HELM="${HELM:-/root/.cache/interloop/bin/helm}"
KUBERNETES_VALIDATE="${KUBERNETES_VALIDATE:-.venv/bin/kubernetes-validate}"
KUBE_VERSION="${KUBE_VERSION:-1.33.0}"
# The chart's own checks need PyYAML; kubernetes-validate depends on it, so use its interpreter.
PYTHON="${PYTHON:-$(dirname "$KUBERNETES_VALIDATE")/python}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHART="$HERE/interloop"
# The chart requires its database URLs, Kafka and keys (it installs and generates none): "default" is the
# chart's defaults plus only those, as ci/default-values.yaml gives them.
DEFAULT_VALUES="$CHART/ci/default-values.yaml"
PROD_VALUES="$CHART/ci/production-values.yaml"
# Capabilities of a cluster with the Prometheus Operator's CRDs: ServiceMonitors render only there.
WITH_SERVICEMONITOR=(--api-versions monitoring.coreos.com/v1/ServiceMonitor)
RELEASE=interloop
NAMESPACE=interloop
started=$SECONDS

WORK="$(mktemp -d "${TMPDIR:-/tmp}/interloop-helm.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

step() { printf '%-40s %s\n' "$1" "$2"; }
fail() {
  step "$1" "FAIL"
  [[ -n "${2:-}" && -s "$2" ]] && sed 's/^/    /' "$2" >&2
  exit 1
}

for tool in "$HELM" "$KUBERNETES_VALIDATE" "$PYTHON"; do
  [[ -x "$tool" ]] || { echo "missing tool: $tool (set HELM / KUBERNETES_VALIDATE / PYTHON, or run 'make install')" >&2; exit 1; }
done
step "tools" "ok ($("$HELM" version --short 2>/dev/null), kubernetes-validate $("$KUBERNETES_VALIDATE" --version), k8s $KUBE_VERSION)"

# --- 1. lint -------------------------------------------------------------------------------------------
lint() {  # name, extra helm args…
  local name=$1; shift
  "$HELM" lint "$CHART" --strict --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" "$@" >"$WORK/lint-$name.log" 2>&1 \
    || fail "lint --strict ($name)" "$WORK/lint-$name.log"
  step "lint --strict ($name)" "ok"
}
lint default -f "$DEFAULT_VALUES"
lint production -f "$PROD_VALUES"

# --- 2. render and split into one file per document -----------------------------------------------------
render() {  # name, extra helm args…
  local name=$1; shift
  local out="$WORK/rendered/$name"
  mkdir -p "$out"
  "$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" "$@" \
    >"$WORK/$name.yaml" 2>"$WORK/render-$name.log" || fail "template ($name)" "$WORK/render-$name.log"
  # Documents are separated by '---' lines; drop the ones that are only comments or blank.
  awk -v dir="$out" '
    function flush() { if (body ~ /(^|\n)[A-Za-z]/) { n++; printf "%s", body > sprintf("%s/%03d.yaml", dir, n); close(sprintf("%s/%03d.yaml", dir, n)) } body = "" }
    /^---[[:space:]]*$/ { flush(); next }
    { body = body $0 "\n" }
    END { flush() }' "$WORK/$name.yaml"
  local f kind meta
  for f in "$out"/*.yaml; do
    kind=$(awk '/^kind:/ {print tolower($2); exit}' "$f")
    meta=$(awk '/^metadata:/ {m=1; next} m && /^  name:/ {print $2; exit}' "$f")
    mv "$f" "${f%.yaml}-$kind-$meta.yaml"
  done
  step "template ($name)" "ok ($(ls "$out" | wc -l | tr -d ' ') documents)"
}
render default -f "$DEFAULT_VALUES"
render production -f "$PROD_VALUES" "${WITH_SERVICEMONITOR[@]}"

# Rendering is a pure function of the values (nothing generated, nothing looked up): GitOps tools that
# run `helm template` on every sync must get the same manifests, keys included, every time.
for name in default production; do
  cp "$WORK/$name.yaml" "$WORK/$name.first.yaml"
done
"$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" -f "$DEFAULT_VALUES" >"$WORK/default.again.yaml"
"$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" -f "$PROD_VALUES" \
  "${WITH_SERVICEMONITOR[@]}" >"$WORK/production.again.yaml"
for name in default production; do
  diff -u "$WORK/$name.first.yaml" "$WORK/$name.again.yaml" >"$WORK/again-$name.diff" || fail "template is deterministic ($name)" "$WORK/again-$name.diff"
done
# Without the ServiceMonitor API (no Prometheus Operator) the chart skips them instead of failing the install.
"$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" -f "$PROD_VALUES" >"$WORK/production-no-crd.yaml"
if grep -q '^kind: ServiceMonitor' "$WORK/production-no-crd.yaml"; then fail "ServiceMonitor skipped without its CRD" /dev/null; fi
step "template is deterministic, CRD-aware" "ok (same output twice; ServiceMonitor only with monitoring.coreos.com/v1)"

# publicUrl (no Ingress: a Gateway API route or a load balancer) sets the gateway's public URL and the base
# of candidate links, without a trailing slash.
"$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" -f "$DEFAULT_VALUES" \
  --set environment=production --set publicUrl=https://interviews.example.com/ --show-only templates/configmap.yaml \
  >"$WORK/public-url.yaml" 2>&1 || fail "publicUrl" "$WORK/public-url.yaml"
for var in INTERLOOP_GATEWAY_PUBLIC_URL INTERLOOP_SCHEDULER_PUBLIC_BASE_URL; do
  grep -qx "  $var: https://interviews.example.com" "$WORK/public-url.yaml" || fail "publicUrl sets $var" "$WORK/public-url.yaml"
done
step "publicUrl" "ok (gateway public URL and candidate links without an Ingress)"

# --- 3. kubernetes-validate --------------------------------------------------------------------------
# CRDs (ServiceMonitor, monitoring.coreos.com) have no schema in kubernetes-validate; they are skipped here
# and their shape is checked by the chart checks in step 4.
cat >"$WORK/probe-bad.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: probe}
notAField: true
EOF
if "$KUBERNETES_VALIDATE" -k "$KUBE_VERSION" --strict --quiet "$WORK/probe-bad.yaml" >/dev/null 2>&1; then
  fail "kubernetes-validate --strict is strict" /dev/null
fi
step "kubernetes-validate rejects bad input" "ok (unknown field refused under --strict)"

validate() {  # name
  local name=$1 f
  local -a files=() skipped=()
  for f in "$WORK/rendered/$name"/*.yaml; do
    if grep -qE '^apiVersion: monitoring\.coreos\.com/' "$f"; then skipped+=("$(basename "$f")"); else files+=("$f"); fi
  done
  "$KUBERNETES_VALIDATE" -k "$KUBE_VERSION" --strict --quiet "${files[@]}" >"$WORK/validate-$name.log" 2>&1 \
    || fail "kubernetes-validate ($name)" "$WORK/validate-$name.log"
  if grep -qiE 'warn|error|fail' "$WORK/validate-$name.log"; then fail "kubernetes-validate ($name)" "$WORK/validate-$name.log"; fi
  step "kubernetes-validate ($name)" "ok (${#files[@]} strict against $KUBE_VERSION; ${#skipped[@]} CRD skipped: ServiceMonitor)"
}
validate default
validate production

# --- 4. chart checks: the env contract, probes, labels, hardening and switches -------------------------
"$PYTHON" - "$WORK/rendered" "$NAMESPACE" >"$WORK/checks.log" 2>&1 <<'PY' || fail "chart checks" "$WORK/checks.log"
import pathlib, sys
import yaml

root, namespace = pathlib.Path(sys.argv[1]), sys.argv[2]
SERVICES = ["gateway", "scheduler", "scorecard", "sync"]
SELECTOR_KEYS = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}
LABEL_KEYS = SELECTOR_KEYS | {"app.kubernetes.io/part-of", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"}
errors = []

def check(ok, what):
    if not ok:
        errors.append(f"{render}: {what}")

def plain_of(container):
    data = {}
    for e in container.get("envFrom", []):
        if "configMapRef" in e:
            data.update(by["ConfigMap"][e["configMapRef"]["name"]]["data"])
    return data

for render in ("default", "production"):
    docs = [yaml.safe_load(p.read_text()) for p in sorted((root / render).glob("*.yaml"))]
    by = {}
    for d in docs:
        by.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    prod = render == "production"
    secrets = by.get("Secret", {})
    check(bool(secrets) != prod, "a Secret is rendered only when secrets.existingSecret is empty")
    services = by["Service"]
    for svc in SERVICES:
        name = f"interloop-{svc}"
        dep = by["Deployment"].get(name)
        check(dep is not None, f"Deployment {name} exists")
        if dep is None:
            continue
        meta_labels = dep["metadata"]["labels"]
        check(LABEL_KEYS <= set(meta_labels), f"{name}: metadata labels carry {sorted(LABEL_KEYS - set(meta_labels))}")
        check(meta_labels.get("app.kubernetes.io/component") == svc and meta_labels.get("app.kubernetes.io/part-of") == "interloop",
              f"{name}: component={svc}, part-of=interloop")
        sel = dep["spec"]["selector"]["matchLabels"]
        check(set(sel) == SELECTOR_KEYS, f"{name}: selector is exactly name/instance/component (no version, no chart), got {sorted(sel)}")
        check(services[name]["spec"]["selector"] == sel, f"Service {name} selects the Deployment's pods")
        pod = dep["spec"]["template"]
        check(sel.items() <= pod["metadata"]["labels"].items(), f"{name}: pod labels match the selector")
        check("checksum/config" in pod["metadata"].get("annotations", {}), f"{name}: checksum/config annotation")
        spec = pod["spec"]
        check(spec.get("automountServiceAccountToken") is False, f"{name}: pod does not mount a token")
        sa = by["ServiceAccount"].get(spec.get("serviceAccountName"))
        check(sa is not None and sa.get("automountServiceAccountToken") is False, f"{name}: own ServiceAccount without token")
        psc = spec.get("securityContext", {})
        check(psc.get("runAsNonRoot") is True and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}: pod securityContext")
        check(any(v["name"] == "tmp" and "emptyDir" in v for v in spec.get("volumes", [])), f"{name}: emptyDir tmp volume")
        check(len(spec.get("topologySpreadConstraints", [])) >= 1, f"{name}: topologySpreadConstraints")
        module = f"interloop_{svc}"
        inits, main = spec.get("initContainers", []), spec["containers"][0]
        check([c.get("command")[:5] for c in inits] == [["python", "-m", module, "migrate", "--check"]],
              f"{name}: the init container only waits for the schema (migrate --check)")
        check(plain_of(main).get(f"INTERLOOP_{svc.upper()}_MIGRATE_ON_START") == "false", f"{name}: serve does not migrate")
        # One migration Job per service, named by its pod spec (a new image is a new Job), running migrate.
        jobs = [j for j in by.get("Job", {}).values() if j["metadata"]["labels"].get("interloop.dev/service") == svc]
        check(len(jobs) == 1 and jobs[0]["metadata"]["name"].startswith(f"{name}-migrate-"), f"{name}: one migration Job")
        for job in jobs:
            jc = job["spec"]["template"]["spec"]["containers"][0]
            check(jc["command"][:4] == ["python", "-m", module, "migrate"] and "--check" not in jc["command"], f"{job['metadata']['name']}: runs migrate")
            check(jc["image"] == main["image"], f"{job['metadata']['name']}: the Deployment's image")
            job_db = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef", {}).get("key") for e in jc["env"]}
            owner_key = f"{svc}-migration-database-url" if prod else f"{svc}-database-url"  # migrations.separateRole
            check(job_db.get(f"INTERLOOP_{svc.upper()}_DATABASE_URL") == owner_key, f"{job['metadata']['name']}: migrates as {owner_key}")
            check((job_db.get(f"INTERLOOP_{svc.upper()}_RUNTIME_DATABASE_URL") == f"{svc}-database-url") == prod,
                  f"{job['metadata']['name']}: grants the service's role only with separateRole")
            check(job["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == "migrate",
                  f"{job['metadata']['name']}: component=migrate (no Service selects it)")
        check(main.get("command") == ["python", "-m", module, "serve"], f"{name}: serve command")
        for c in inits + [main]:
            sc = c.get("securityContext", {})
            check(sc.get("runAsNonRoot") is True and sc.get("readOnlyRootFilesystem") is True
                  and sc.get("allowPrivilegeEscalation") is False and sc.get("capabilities", {}).get("drop") == ["ALL"]
                  and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}/{c['name']}: hardened securityContext")
            check({"name": "tmp", "mountPath": "/tmp"} in c.get("volumeMounts", []), f"{name}/{c['name']}: /tmp mounted")
        ports = {p["name"]: p["containerPort"] for p in main["ports"]}
        check(ports.get("metrics") == 9464 and ports.get("grpc") == 50051, f"{name}: grpc 50051 and metrics 9464 ports, got {ports}")
        svc_ports = {p["name"]: p["port"] for p in services[name]["spec"]["ports"]}
        check(svc_ports.get("metrics") == 9464 and svc_ports.get("grpc") == 50051, f"Service {name}: grpc and metrics ports")
        if svc == "gateway":
            check(ports.get("http") == 8000 and svc_ports.get("http") == 8000, f"{name}: http port 8000")
            for probe, path in (("startupProbe", "/livez"), ("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
                check(main.get(probe, {}).get("httpGet") == {"path": path, "port": "http"}, f"{name}: {probe} GET {path}")
        else:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                check(main.get(probe, {}).get("grpc") == {"port": 50051}, f"{name}: native gRPC {probe}")
        # The env contract: ConfigMap (envFrom) + env entries.
        cm_names = [e["configMapRef"]["name"] for e in main.get("envFrom", []) if "configMapRef" in e]
        plain = {}
        for n in cm_names:
            plain.update(by["ConfigMap"][n]["data"])
        env = {e["name"]: e for e in main.get("env", [])}
        P = f"INTERLOOP_{svc.upper()}_"
        for k in ("GRPC_PORT", "METRICS_PORT"):
            check(P + k in plain, f"{name}: {P}{k}")
        check(plain.get(P + "GRPC_HOST") == "0.0.0.0", f"{name}: gRPC listens on all interfaces (kubelet probes the pod IP)")
        db = env.get(P + "DATABASE_URL", {}).get("valueFrom", {}).get("secretKeyRef", {})
        check(db.get("key") == f"{svc}-database-url", f"{name}: {P}DATABASE_URL from Secret key {svc}-database-url")
        secret_name = db.get("name")
        check(P + "KAFKA_BOOTSTRAP_SERVERS" in plain or "secretKeyRef" in env.get(P + "KAFKA_BOOTSTRAP_SERVERS", {}).get("valueFrom", {}),
              f"{name}: {P}KAFKA_BOOTSTRAP_SERVERS")
        replicas = plain.get(P + "KAFKA_TOPIC_REPLICATION")
        check(replicas == ("3" if prod else "1"), f"{name}: topics created with {'3' if prod else '1'} replicas, got {replicas!r}")
        check(float(plain.get(P + "KAFKA_RETENTION_HOURS", "0")) > 0, f"{name}: {P}KAFKA_RETENTION_HOURS")
        for k in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
            check(k in env, f"{name}: {k}")
        check(("OTEL_EXPORTER_OTLP_ENDPOINT" in env) == prod, f"{name}: OTEL_EXPORTER_OTLP_ENDPOINT set when telemetry.otlpEndpoint is")
        refs = [(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                for e in main.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
        if prod:
            check(all(n == "interloop-production" for n, _ in refs), f"{name}: secrets come from the existingSecret")
        else:
            check(all(n in secrets and k in secrets[n]["data"] for n, k in refs), f"{name}: every secretKeyRef resolves in the chart's Secret")
        if svc == "gateway":
            check(plain.get(P + "HTTP_PORT") == "8000" and plain.get(P + "HTTP_HOST") == "0.0.0.0", f"{name}: HTTP port/host")
            for callee in ("scheduler", "scorecard", "sync"):
                target = plain.get(f"{P}{callee.upper()}_TARGET", "")
                check(target == f"dns:///interloop-{callee}-headless.{namespace}.svc:50051",
                      f"{name}: {callee} target is its headless Service (client-side round robin), got {target!r}")
                headless = services.get(f"interloop-{callee}-headless", {}).get("spec", {})
                check(headless.get("clusterIP") == "None" and [p["name"] for p in headless.get("ports", [])] == ["grpc"],
                      f"{name}: interloop-{callee}-headless is a headless gRPC Service")
        # The partner API's TLS (production: mutual TLS) reaches the gateway only, as mounted files.
        tls_env = {k: v for k, v in plain.items() if k.startswith(P + "PARTNER_TLS_")}
        mounts = {m["name"]: m for m in main.get("volumeMounts", [])}
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        if svc == "gateway" and prod:
            check(tls_env == {P + "PARTNER_TLS_CERT_FILE": "/etc/interloop/partner-tls/tls.crt",
                              P + "PARTNER_TLS_KEY_FILE": "/etc/interloop/partner-tls/tls.key",
                              P + "PARTNER_TLS_CLIENT_CA_FILE": "/etc/interloop/partner-tls/ca.crt"},
                  f"{name}: partner mutual TLS files, got {tls_env}")
            check(mounts.get("partner-tls", {}).get("readOnly") is True
                  and mounts["partner-tls"]["mountPath"] == "/etc/interloop/partner-tls", f"{name}: partner-tls mounted read-only")
            check(vols.get("partner-tls", {}).get("secret", {}).get("secretName") == "interloop-partner-tls", f"{name}: partner-tls volume")
        else:
            check(not tls_env and "partner-tls" not in mounts and "partner-tls" not in vols,
                  f"{name}: no partner TLS unless the gateway is given partnerApi.tls")
        if svc == "sync":
            check("secretKeyRef" in env.get(P + "CREDENTIAL_KEYS", {}).get("valueFrom", {}), f"{name}: {P}CREDENTIAL_KEYS from the Secret")
        # Switches.
        hpa = by.get("HorizontalPodAutoscaler", {}).get(name)
        scales = prod and svc in ("gateway", "scheduler")
        check((hpa is not None) == scales, f"{name}: HPA only for gateway/scheduler with autoscaling on")
        check(("replicas" in dep["spec"]) != scales, f"{name}: replicas left to the HPA when it exists")
        if hpa:
            check(hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu", f"{name}: HPA scales on CPU")
        for kind in ("PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor"):
            check((name in by.get(kind, {})) == prod, f"{name}: {kind} rendered only when switched on")
        if prod:
            check(by["PodDisruptionBudget"][name]["spec"]["selector"]["matchLabels"] == sel, f"{name}: PDB selects the pods")
            sm = by["ServiceMonitor"][name]["spec"]
            check(sm["selector"]["matchLabels"].items() <= services[name]["metadata"]["labels"].items(), f"{name}: ServiceMonitor selects the Service")
            check(sm["endpoints"][0]["port"] == "metrics", f"{name}: ServiceMonitor scrapes the metrics port")
            check(dep["spec"].get("replicas", 3) >= 3, f"{name}: production runs at least 3 replicas")
            np = by["NetworkPolicy"][name]["spec"]
            if svc != "gateway":
                grpc_rules = [r for r in np["ingress"] if {"port": 50051, "protocol": "TCP"} in r["ports"]]
                check(len(grpc_rules) == 1, f"{name}: one gRPC ingress rule")
                callers = {p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for r in grpc_rules for p in r.get("from", [])}
                check(callers == {"gateway", "test"}, f"{name}: gRPC only from gateway (and helm tests), got {sorted(callers)}")
            egress_ports = {p["port"] for r in np["egress"] for p in r["ports"]}
            check({53, 9092, 5432, 4317} <= egress_ports, f"{name}: egress to DNS, Kafka, PostgreSQL, OTLP")
            check(all(r.get("from") for r in np["ingress"]), f"{name}: every ingress rule names its sources")
            # Outbound HTTPS (vendors, calendars) reaches no private, link-local (metadata) or loopback address.
            private = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8"}
            for rule in np["egress"]:
                if {"port": 443, "protocol": "TCP"} in rule["ports"]:
                    blocks = [t.get("ipBlock") for t in rule.get("to", [])]
                    check(bool(blocks) and all(b and private <= set(b.get("except", [])) for b in blocks),
                          f"{name}: egress on 443 excludes private, link-local and loopback ranges, got {rule.get('to')}")
        tests = [d for d in by["Pod"].values() if d["metadata"]["name"] == f"{name}-test"]
        check(len(tests) == 1 and tests[0]["metadata"]["annotations"].get("helm.sh/hook") == "test", f"{name}: helm test pod")
        # hook-succeeded would delete the pod before `helm test --logs` reads it.
        check(len(tests) == 1 and tests[0]["metadata"]["annotations"].get("helm.sh/hook-delete-policy") == "before-hook-creation",
              f"{name}: helm test pod kept until the next run (helm test --logs)")
        # Nodes without a zone label (single-zone, on-prem) must still take the pods.
        for c in spec.get("topologySpreadConstraints", []):
            check(c["topologyKey"] != "topology.kubernetes.io/zone" or c["whenUnsatisfiable"] == "ScheduleAnyway",
                  f"{name}: the zone spread is best effort (nodes without a zone label still schedule)")
    if prod:
        deny = by["NetworkPolicy"].get("interloop-default-deny", {}).get("spec", {})
        check(deny.get("policyTypes") == ["Ingress", "Egress"] and not deny.get("ingress") and not deny.get("egress"), "default-deny NetworkPolicy")
        ing = by["Ingress"]["interloop-gateway"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        check(ing == {"name": "interloop-gateway", "port": {"name": "http"}}, "Ingress routes to the gateway's http port")
        cm = by["ConfigMap"]["interloop-gateway"]["data"]
        check(cm.get("INTERLOOP_GATEWAY_PUBLIC_URL") == "https://interloop.example.com", "gateway public URL follows the Ingress host")
        sched = by["ConfigMap"]["interloop-scheduler"]["data"]
        check(sched.get("INTERLOOP_SCHEDULER_PUBLIC_BASE_URL") == "https://interloop.example.com", "candidate links follow the Ingress host")
    else:
        check("Ingress" not in by, "no Ingress by default")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print("ok")
PY
step "chart checks" "ok (env contract, probes, labels, securityContext, switches)"

# --- 5. negative: broken values must fail --------------------------------------------------------------
# Each case: a values file and a fragment the error must contain; schema cases must fail in values.schema.json.
mkdir -p "$WORK/neg"
negative() {  # name, expected error fragment; values on stdin
  local name=$1 expect=$2
  cat >"$WORK/neg/$name.yaml"
  if "$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" \
      -f "$DEFAULT_VALUES" -f "$WORK/neg/$name.yaml" >/dev/null 2>"$WORK/neg/$name.log"; then
    fail "negative: $name (rendered, should fail)" /dev/null
  fi
  grep -qF -- "$expect" "$WORK/neg/$name.log" || {
    echo "    expected the error to mention: $expect" >&2
    fail "negative: $name (failed for another reason)" "$WORK/neg/$name.log"
  }
  negatives=$((negatives + 1))
}
negatives=0
SCHEMA="values don't meet the specifications of the schema"
negative replicas-zero "/services/scheduler/replicas" <<<'services: {scheduler: {replicas: 0}}'
negative image-missing "/services/gateway/image" <<<'services: {gateway: {image: {repository: null}}}'
negative image-empty "/services/sync/image/repository" <<<'services: {sync: {image: {repository: ""}}}'
negative port-out-of-range "/services/scorecard/ports/grpc" <<<'services: {scorecard: {ports: {grpc: 70000}}}'
negative unknown-service "/services" <<<'services: {billing: {enabled: true, image: {repository: x}, replicas: 1, ports: {grpc: 1, metrics: 2}, resources: {}}}'
negative gateway-without-http "/services/gateway/ports" <<<'services: {gateway: {ports: {http: null}}}'
negative root-filesystem-writable "/containerSecurityContext/readOnlyRootFilesystem" <<<'containerSecurityContext: {readOnlyRootFilesystem: false}'
negative runs-as-root "/podSecurityContext/runAsUser" <<<'podSecurityContext: {runAsUser: 0}'
negative ingress-without-hosts "/ingress" <<<'ingress: {enabled: true, hosts: []}'
negative top-level-typo "additional properties 'networkPolicies' not allowed" <<<'networkPolicies: {enabled: true}'
negative public-url-not-a-url "/publicUrl" <<<'publicUrl: interviews.example.com'
negative kafka-protocol-typo "/kafka/securityProtocol" <<<'kafka: {securityProtocol: TLS}'
negative partner-tls-typo "/partnerApi/tls" <<<'partnerApi: {tls: {secret: x}}'
for f in "$WORK"/neg/*.log; do grep -qF "$SCHEMA" "$f" || fail "negative: $(basename "$f" .log) is a schema error" "$f"; done
schema_cases=$negatives
# Template guards: what JSON Schema cannot express.
negative calls-disabled-service 'services.gateway.calls lists "sync"' <<<'services: {sync: {enabled: false}}'
negative secret-key-missing "secrets.data.sync-credential-keys is required" <<<'secrets: {data: {sync-credential-keys: null}}'
negative secret-key-not-fernet "secrets.data.scheduler-credential-keys holds something that is not a Fernet key" \
  <<<'secrets: {data: {scheduler-credential-keys: "ZGV2LW9ubHktbm90LWEtc2VjcmV0LWtleS1zY2hlZCE=,not-a-key"}}'
negative database-url-missing "secrets.data.scorecard-database-url is required" <<<'secrets: {data: {scorecard-database-url: ""}}'
negative kafka-missing "kafka.bootstrapServers is required: the chart installs no Kafka" <<<'kafka: {bootstrapServers: ""}'
negative partner-mtls-without-secret "partnerApi.tls.requireClientCertificate needs partnerApi.tls.secretName" \
  <<<'partnerApi: {tls: {requireClientCertificate: true}}'
negative public-url-outside-dev 'publicUrl is required when environment is "staging"' <<<'environment: staging'
negative hpa-max-below-min "maxReplicas (1) must be at least minReplicas (2)" <<<'{autoscaling: {enabled: true}, services: {gateway: {autoscaling: {maxReplicas: 1}}}}'
negative kafka-sasl-without-user "kafka.sasl.username is required with kafka.securityProtocol SASL_SSL" \
  <<<'{kafka: {securityProtocol: SASL_SSL, sasl: {passwordSecretKey: kafka-password}}, secrets: {data: {kafka-password: x}}}'
negative kafka-sasl-without-password "kafka.sasl.passwordSecretKey is required" \
  <<<'kafka: {securityProtocol: SASL_SSL, sasl: {username: interloop}}'
negative kafka-sasl-password-not-given "secrets.data.kafka-password is required" \
  <<<'kafka: {securityProtocol: SASL_SSL, sasl: {username: interloop, passwordSecretKey: kafka-password}}'
negative kafka-tls-over-plaintext "kafka.tls.secretName needs kafka.securityProtocol SSL or SASL_SSL" \
  <<<'kafka: {tls: {secretName: kafka-ca}}'
"$HELM" lint "$CHART" --strict --kube-version "$KUBE_VERSION" -f "$DEFAULT_VALUES" -f "$WORK/neg/replicas-zero.yaml" >/dev/null 2>&1 \
  && fail "negative: lint rejects replicas: 0" /dev/null
# The bare chart points at nothing: it refuses to render and says what to set.
"$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" >/dev/null 2>"$WORK/neg/bare.log" \
  && fail "negative: the bare chart renders (should require its database URLs, Kafka and keys)" /dev/null
grep -qF "the chart installs no PostgreSQL" "$WORK/neg/bare.log" || fail "negative: the bare chart fails for another reason" "$WORK/neg/bare.log"
step "negative values" "ok ($schema_cases rejected by values.schema.json, $((negatives - schema_cases)) by template guards, lint too)"

# Kafka over SASL_SSL: the settings reach every service, the password from the Secret, the CA mounted.
"$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" -f "$DEFAULT_VALUES" \
  --set kafka.securityProtocol=SASL_SSL --set kafka.sasl.username=interloop --set kafka.sasl.passwordSecretKey=kafka-password \
  --set secrets.data.kafka-password=s3cret --set kafka.tls.secretName=kafka-ca >"$WORK/kafka-sasl.yaml" 2>&1 \
  || fail "kafka SASL_SSL render" "$WORK/kafka-sasl.yaml"
for want in "INTERLOOP_SYNC_KAFKA_SECURITY_PROTOCOL: SASL_SSL" "INTERLOOP_SCHEDULER_KAFKA_SASL_USERNAME: interloop" \
    "INTERLOOP_SCORECARD_KAFKA_SSL_CAFILE: /etc/interloop/kafka-tls/ca.crt" "name: INTERLOOP_SYNC_KAFKA_SASL_PASSWORD" \
    "key: kafka-password" "secretName: kafka-ca" "mountPath: /etc/interloop/kafka-tls"; do
  grep -qF -- "$want" "$WORK/kafka-sasl.yaml" || fail "kafka SASL_SSL render lacks: $want" "$WORK/kafka-sasl.yaml"
done
grep -qF "s3cret" <(grep -v "kafka-password: " "$WORK/kafka-sasl.yaml" | grep -v "^  kafka-password") \
  && fail "kafka SASL_SSL render: the password appears outside the Secret" "$WORK/kafka-sasl.yaml"
step "kafka security" "ok (SASL_SSL settings, password from the Secret, CA mounted read-only)"

step "helm chart checks" "PASS in $((SECONDS - started))s"
