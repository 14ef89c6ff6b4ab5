"""The Helm chart installed on a real Kubernetes API server (issue 15, tier 1): etcd and kube-apiserver on
loopback with a throwaway PKI, PodSecurity `restricted` enforced on every target namespace, and a real
`helm install` / `helm upgrade` with the default and the production values. The API server applies its own
validation, defaulting and admission, which lint, render and schema checks cannot: every object must be
accepted with no warning, and every pod the chart asks for must pass PodSecurity `restricted`.

No node and no controller manager run here (that is tier 2): Deployments create no pods, so each pod
template is submitted as a Pod with a server-side dry run, which goes through the same admission.
etcd and kube-apiserver come from `make cluster-tools` (make test provides them)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from interloop_devstack import kube
from interloop_devstack.procs import free_port, spawn, stop, wait_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy/helm/interloop"
DEFAULT_VALUES = CHART / "ci/default-values.yaml"
PRODUCTION_VALUES = CHART / "ci/production-values.yaml"
CACHE = Path.home() / ".cache/interloop"
SERVICES = ("gateway", "scheduler", "scorecard", "sync")
AUTOSCALED = ("gateway", "scheduler")  # autoscaling.enabled per service in values.yaml


def _k8s_version() -> str:
    """The Kubernetes version the Makefile builds: the wrapper module's k8s.io/kubernetes requirement."""
    go_mod = (ROOT / "deploy/helm/e2e/k8s/go.mod").read_text()
    return re.search(r"^require k8s\.io/kubernetes (v\S+)$", go_mod, re.M).group(1)


def _tool(env_var: str, default: Path | str | None) -> Path | None:
    """A tool from the Makefile (env_var is exported by make), else from its cache or PATH. Under make a
    missing tool is a failure: make test provides them, so the test must not quietly skip there."""
    given = os.environ.get(env_var)
    if given:
        if not Path(given).is_file():
            pytest.fail(f"{env_var}={given} does not exist: `make cluster-tools` should have provided it")
        return Path(given)
    if default is None:
        return None
    path = Path(default) if "/" in str(default) else shutil.which(str(default))
    return Path(path) if path and Path(path).is_file() else None


def _run(
    args: list[str | Path], *, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args[:3]))} … failed ({done.returncode}):\n{done.stderr}{done.stdout}"
        )
    return done


def _warnings(stderr: str) -> list[str]:
    """API warnings as helm (client-go's `W… warnings.go] …`) and kubectl (`Warning: …`) print them."""
    return [line for line in stderr.splitlines() if re.search(r"warning", line, re.I)]


def _flags(**flags: object) -> list[str]:
    return [f"--{name.replace('_', '-')}={value}" for name, value in flags.items()]


_LEAVES = {
    "apiserver": kube.serving_leaf("kube-apiserver", ["IP:127.0.0.1", "DNS:localhost"]),
    "admin": kube.client_leaf("interloop-test-admin", "system:masters"),
}


@dataclass
class Cluster(kube.KubeApi):
    env: dict[str, str] = field(default_factory=dict)  # for helm and kubectl: KUBECONFIG, a private HOME
    helm_bin: Path = Path("helm")
    kubectl_bin: Path | None = None
    version: str = ""

    def helm(self, *args: str | Path) -> subprocess.CompletedProcess:
        return _run([self.helm_bin, *args], env=self.env)

    def kubectl(self, *args: str | Path) -> subprocess.CompletedProcess:
        assert self.kubectl_bin is not None
        return _run([self.kubectl_bin, *args], env=self.env)

    def deployment(self, namespace: str, svc: str) -> dict[str, Any]:
        return self.get(self.path("apps/v1", "Deployment", namespace, f"interloop-{svc}"))

    def names(self, api_version: str, kind: str, namespace: str) -> set[str]:
        items = self.get(
            self.path(api_version, kind, namespace) + "?labelSelector=app.kubernetes.io/name%3Dinterloop"
        )
        return {i["metadata"]["name"] for i in items["items"]}

    def servicemonitor_crd(self, *, installed: bool) -> None:
        """Install (or remove) the ServiceMonitor CRD and wait until discovery, which helm's
        .Capabilities reads, says so."""
        crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        crd = f"{crds}/servicemonitors.monitoring.coreos.com"
        deadline = time.monotonic() + 60
        while True:
            current = self.request("GET", crd)
            terminating = current.status == 200 and "deletionTimestamp" in current.body["metadata"]
            if not installed and current.status == 200 and not terminating:
                self.request("DELETE", crd)
            elif installed and current.status == 404:
                assert self.request("POST", crds, SERVICEMONITOR_CRD, yaml=True).status == 201
            served = self.request("GET", "/apis/monitoring.coreos.com/v1")
            kinds = {r["kind"] for r in served.body.get("resources", [])} if served.status == 200 else set()
            if ("ServiceMonitor" in kinds) == installed and not terminating:
                return
            assert time.monotonic() < deadline, (
                f"the ServiceMonitor CRD is not {'' if installed else 'un'}installed"
            )
            time.sleep(0.2)


# A stand-in for the Prometheus Operator's CRD, so the cluster serves monitoring.coreos.com/v1: the group,
# kind and scope are the operator's, the schema covers only the fields the chart renders (the operator's
# names and duration format), without x-kubernetes-preserve-unknown-fields, so a misspelt field is refused.
SERVICEMONITOR_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicemonitors.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names:
    plural: servicemonitors
    singular: servicemonitor
    kind: ServiceMonitor
    listKind: ServiceMonitorList
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          required: [spec]
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              required: [selector, endpoints]
              properties:
                jobLabel: {type: string}
                selector:
                  type: object
                  properties:
                    matchLabels: {type: object, additionalProperties: {type: string}}
                endpoints:
                  type: array
                  items:
                    type: object
                    properties:
                      port: {type: string}
                      path: {type: string, pattern: "^/"}
                      interval: &duration
                        type: string
                        pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'
                      scrapeTimeout: *duration
"""  # noqa: E501 - the operator's duration pattern, on one line


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    version = _k8s_version()
    etcd = _tool("INTERLOOP_ETCD", "etcd")
    apiserver = _tool("INTERLOOP_KUBE_APISERVER", CACHE / f"bin/kube-apiserver-{version}")
    helm = _tool("HELM", CACHE / "bin/helm")
    missing = [
        n for n, p in (("etcd", etcd), (f"kube-apiserver {version}", apiserver), ("helm", helm)) if not p
    ]
    if not shutil.which("openssl"):
        missing.append("openssl")
    if missing:
        pytest.skip(
            f"chart install test needs {', '.join(missing)}: run `make cluster-tools` (make test does)"
        )
    tmp = tmp_path_factory.mktemp("cluster")
    home = tmp / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "KUBECONFIG": str(tmp / "kubeconfig"),
        "KUBECACHEDIR": str(home / "kube-cache"),
        "HELM_CACHE_HOME": str(home / "helm-cache"),
        "HELM_CONFIG_HOME": str(home / "helm-config"),
        "HELM_DATA_HOME": str(home / "helm-data"),
    }
    pki = kube.pki(tmp / "pki", _LEAVES)
    client, peer, secure = free_port(), free_port(), free_port()
    etcd_proc = apiserver_proc = None
    try:
        etcd_log = tmp / "etcd.log"
        etcd_flags = _flags(
            name="interloop-test",
            data_dir=tmp / "etcd",
            logger="zap",
            listen_client_urls=f"http://127.0.0.1:{client}",
            advertise_client_urls=f"http://127.0.0.1:{client}",
            listen_peer_urls=f"http://127.0.0.1:{peer}",
            initial_advertise_peer_urls=f"http://127.0.0.1:{peer}",
            initial_cluster=f"interloop-test=http://127.0.0.1:{peer}",
        )
        etcd_proc = spawn([str(etcd), *etcd_flags], log=etcd_log, env=env)
        wait_port(client, proc=etcd_proc, log=etcd_log, timeout=60, what="etcd")
        api_log = tmp / "kube-apiserver.log"
        api_flags = _flags(
            etcd_servers=f"http://127.0.0.1:{client}",
            bind_address="127.0.0.1",
            advertise_address="127.0.0.1",
            secure_port=secure,
            tls_cert_file=pki / "apiserver.crt",
            tls_private_key_file=pki / "apiserver.key",
            client_ca_file=pki / "ca.crt",
            cert_dir=tmp / "apiserver-certs",
            service_account_issuer="https://kubernetes.default.svc.cluster.local",
            service_account_key_file=pki / "sa.pub",
            service_account_signing_key_file=pki / "sa.key",
            service_cluster_ip_range="10.96.0.0/16",
            authorization_mode="RBAC",
            # No endpoints for the kubernetes Service: they would be 127.0.0.1, which validation refuses.
            endpoint_reconciler_type="none",
            profiling="false",
        )
        apiserver_proc = spawn([str(apiserver), *api_flags], log=api_log, env=env)
        url = f"https://127.0.0.1:{secure}"
        Path(env["KUBECONFIG"]).write_text(kube.kubeconfig(url, pki))
        Path(env["KUBECONFIG"]).chmod(0o600)
        c = Cluster(
            url,
            pki,
            env=env,
            helm_bin=helm,
            kubectl_bin=_tool("INTERLOOP_KUBECTL", "kubectl"),
            version=version,
        )
        wait_port(secure, proc=apiserver_proc, log=api_log, timeout=120, what="kube-apiserver")
        c.wait_ready(apiserver_proc, api_log, timeout=120)
        assert c.get("/version")["gitVersion"] == version, (
            "the binary must report its version (helm's kubeVersion)"
        )
        yield c
    finally:
        stop(apiserver_proc, timeout=20)
        stop(etcd_proc, timeout=20)


def _values_file(tmp: Path, name: str, values: dict[str, Any]) -> Path:
    path = tmp / f"{name}.json"  # JSON is YAML
    path.write_text(json.dumps(values))
    return path


def _documents(manifest: str) -> list[tuple[str, str, str]]:
    """(apiVersion, kind, text) of each document of a rendered manifest (helm's output: top-level keys
    start at column 0)."""
    docs = []
    for text in re.split(r"(?m)^---\s*$", manifest):
        api, kind = re.search(r"(?m)^apiVersion:\s*(\S+)", text), re.search(r"(?m)^kind:\s*(\S+)", text)
        if api and kind:
            docs.append((api.group(1), kind.group(1), text))
    return docs


def _kinds(manifest: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, kind, _ in _documents(manifest):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _pod_from_template(deployment: dict[str, Any]) -> dict[str, Any]:
    template = deployment["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": deployment["metadata"]["name"] + "-",
            "labels": template["metadata"]["labels"],
        },
        "spec": template["spec"],
    }


def _assert_pods_admitted(c: Cluster, namespace: str, release: str = "interloop") -> int:
    """Every pod the release would run (the Deployments' templates, as the ReplicaSet controller would
    create them, and the `helm test` pods) passes admission with PodSecurity `restricted` enforced, and
    with no warning. Returns how many were checked."""
    pods: list[tuple[dict[str, Any] | str, str]] = [
        (_pod_from_template(c.deployment(namespace, svc)), f"Deployment interloop-{svc}'s pod")
        for svc in SERVICES
    ]
    hooks = c.helm("get", "hooks", release, "-n", namespace).stdout
    pods += [(text, "helm test pod") for _, kind, text in _documents(hooks) if kind == "Pod"]
    assert len(pods) == 2 * len(SERVICES), f"one pod template and one test pod per service, got {len(pods)}"
    for pod, what in pods:
        reply = c.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/pods?dryRun=All&fieldValidation=Strict",
            pod,
            yaml=isinstance(pod, str),
        )
        assert reply.status == 201 and not reply.warnings, (
            f"{what} refused: {reply.status} {reply.body.get('message')} {reply.warnings}"
        )
    return len(pods)


def _secret_keys() -> dict[str, str]:
    """What an SRE's existing Secret holds (fresh keys each run)."""
    keys = {
        f"{svc}-{kind}database-url": f"postgresql://{svc}:{secrets.token_hex(8)}@db.internal:5432/{svc}"
        for svc in SERVICES
        for kind in ("", "migration-")
    }
    for key in ("scheduler-link-signing-key", "scheduler-credential-keys", "sync-credential-keys"):
        keys[key] = secrets.token_urlsafe(32) + "="  # a Fernet key: 32 bytes, url-safe base64
    keys["kafka-bootstrap-servers"] = "kafka-0.kafka.svc:9093,kafka-1.kafka.svc:9093"
    return keys


def test_default_values_install_cleanly_and_keep_their_keys_on_reinstall(cluster: Cluster) -> None:
    ns = cluster.namespace("interloop-default")
    done = cluster.helm("install", "interloop", CHART, "-n", ns, "-f", DEFAULT_VALUES)
    assert not _warnings(done.stderr), done.stderr
    manifest = cluster.helm("get", "manifest", "interloop", "-n", ns).stdout
    for api, kind, text in _documents(manifest):  # stored as rendered: the server kept every object
        name = re.search(r"(?m)^  name:\s*(\S+)", text).group(1)
        cluster.get(cluster.path(api, kind, ns, name))
    kinds = _kinds(manifest)
    assert kinds.get("Deployment") == len(SERVICES) and kinds.get("Secret") == 1, kinds
    switched_off = {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor"}
    assert not switched_off & set(kinds), kinds
    for svc in SERVICES:
        assert cluster.deployment(ns, svc)["spec"]["replicas"] == 1
    # NOTES say what the chart does not provide.
    assert "installs no PostgreSQL and no Kafka" in done.stdout, done.stdout
    assert "WARNING: no publicUrl" in done.stdout, done.stdout
    assert _assert_pods_admitted(cluster, ns) == 8

    # Keys are exactly the values: an uninstall and a reinstall find the same ones.
    secret_path = cluster.path("v1", "Secret", ns, "interloop-secrets")
    before = cluster.get(secret_path)["data"]
    assert set(before) >= {"scheduler-link-signing-key", "scheduler-credential-keys", "sync-credential-keys"}
    cluster.helm("uninstall", "interloop", "-n", ns)
    assert cluster.request("GET", secret_path).status == 404
    done = cluster.helm("install", "interloop", CHART, "-n", ns, "-f", DEFAULT_VALUES)
    assert not _warnings(done.stderr), done.stderr
    assert cluster.get(secret_path)["data"] == before


def test_production_values_install_with_an_existing_secret_then_servicemonitors_once_the_crd_is_there(
    cluster: Cluster,
) -> None:
    ns = cluster.namespace("interloop-production")
    cluster.create(
        f"/api/v1/namespaces/{ns}/secrets",
        {"metadata": {"name": "interloop-production"}, "stringData": _secret_keys()},
    )
    cluster.servicemonitor_crd(installed=False)  # first the cluster without the Prometheus Operator
    done = cluster.helm("install", "interloop", CHART, "-n", ns, "-f", PRODUCTION_VALUES)
    assert not _warnings(done.stderr), done.stderr
    kinds = _kinds(cluster.helm("get", "manifest", "interloop", "-n", ns).stdout)
    assert kinds.get("Deployment") == kinds.get("PodDisruptionBudget") == len(SERVICES), kinds
    assert kinds.get("HorizontalPodAutoscaler") == len(AUTOSCALED) and kinds.get("Ingress") == 1, kinds
    policies = {"interloop-default-deny", "interloop-test", "interloop-migrate"} | {
        f"interloop-{s}" for s in SERVICES
    }
    assert cluster.names("networking.k8s.io/v1", "NetworkPolicy", ns) == policies
    assert "Secret" not in kinds and "ServiceMonitor" not in kinds, kinds
    assert "no monitoring.coreos.com/v1 ServiceMonitor" in done.stdout, done.stdout
    for svc in set(SERVICES) - set(AUTOSCALED):
        assert cluster.deployment(ns, svc)["spec"]["replicas"] == 3
    assert _assert_pods_admitted(cluster, ns) == 8

    cluster.servicemonitor_crd(installed=True)
    done = cluster.helm("upgrade", "interloop", CHART, "-n", ns, "-f", PRODUCTION_VALUES)
    assert not _warnings(done.stderr), done.stderr
    assert "no monitoring.coreos.com/v1 ServiceMonitor" not in done.stdout
    assert cluster.names("monitoring.coreos.com/v1", "ServiceMonitor", ns) == {
        f"interloop-{s}" for s in SERVICES
    }
    # Live now: the autoscaled Deployments are held at least at the HPA's minReplicas.
    for svc in SERVICES:
        assert cluster.deployment(ns, svc)["spec"]["replicas"] == 3, svc


def test_switching_autoscaling_on_keeps_the_running_replica_count(cluster: Cluster, tmp_path: Path) -> None:
    ns = cluster.namespace("interloop-autoscaling")
    three = _values_file(tmp_path, "three", {"services": {s: {"replicas": 3} for s in AUTOSCALED}})
    release = ["interloop", CHART, "-n", ns, "-f", DEFAULT_VALUES, "-f", three]
    cluster.helm("install", *release)
    assert [cluster.deployment(ns, s)["spec"]["replicas"] for s in AUTOSCALED] == [3, 3]

    # Helm's three-way patch would drop a field the chart stops rendering, and the API server would reset
    # the count to 1 before any HPA acts.
    done = cluster.helm("upgrade", *release, "--set", "autoscaling.enabled=true")
    assert not _warnings(done.stderr), done.stderr
    assert cluster.names("autoscaling/v2", "HorizontalPodAutoscaler", ns) == {
        f"interloop-{s}" for s in AUTOSCALED
    }
    assert [cluster.deployment(ns, s)["spec"]["replicas"] for s in AUTOSCALED] == [3, 3]

    # What the HPA scaled to survives the next upgrade.
    scale = cluster.path("apps/v1", "Deployment", ns, "interloop-gateway") + "/scale"
    assert cluster.request("PATCH", scale, {"spec": {"replicas": 5}}).status == 200
    cluster.helm("upgrade", *release, "--set", "autoscaling.enabled=true", "--set", "logLevel=DEBUG")
    assert cluster.deployment(ns, "gateway")["spec"]["replicas"] == 5

    # Without the HPA the chart's count applies again.
    cluster.helm("upgrade", *release)
    assert not cluster.names("autoscaling/v2", "HorizontalPodAutoscaler", ns)
    assert [cluster.deployment(ns, s)["spec"]["replicas"] for s in AUTOSCALED] == [3, 3]


def _render(cluster: Cluster, values: str, namespace: str) -> str:
    args: list[str | Path] = ["-f", DEFAULT_VALUES]
    if values == "production":
        args = ["-f", PRODUCTION_VALUES, "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"]
    kube = cluster.version.removeprefix("v")
    return cluster.helm("template", "interloop", CHART, "-n", namespace, "--kube-version", kube, *args).stdout


@pytest.mark.parametrize("values", ["default", "production"])
def test_rendered_manifests_pass_a_strict_server_side_dry_run(cluster: Cluster, values: str) -> None:
    """What GitOps applies (`helm template`, hooks included), each object sent with dryRun=All and strict
    field validation: no unknown or duplicate field, no admission refusal, no warning."""
    cluster.servicemonitor_crd(installed=True)
    ns = cluster.namespace(f"interloop-dry-run-{values}")
    docs = _documents(_render(cluster, values, ns))
    for api, kind, text in docs:
        reply = cluster.request(
            "POST", cluster.path(api, kind, ns) + "?dryRun=All&fieldValidation=Strict", text, yaml=True
        )
        assert reply.status == 201 and not reply.warnings, (
            f"{kind}: {reply.status} {reply.body.get('message')} {reply.warnings}"
        )
    kinds = _kinds("\n---\n".join(t for *_, t in docs))
    assert kinds.get("Pod") == len(SERVICES), kinds  # the helm test pods, under PodSecurity enforce
    assert kinds.get("ServiceMonitor", 0) == (len(SERVICES) if values == "production" else 0), kinds


@pytest.mark.parametrize("values", ["default", "production"])
def test_kubectl_apply_server_dry_run_accepts_the_rendered_manifests(
    cluster: Cluster, values: str, tmp_path: Path
) -> None:
    if cluster.kubectl_bin is None:
        pytest.skip("kubectl is not installed: the equivalent REST dry run above still ran")
    cluster.servicemonitor_crd(installed=True)
    ns = cluster.namespace(f"interloop-kubectl-{values}")
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(_render(cluster, values, ns))
    done = cluster.kubectl("apply", "--dry-run=server", "--validate=strict", "-n", ns, "-f", manifest)
    assert not _warnings(done.stderr), done.stderr
    applied = [line for line in done.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(applied) == len(_documents(manifest.read_text())), done.stdout


def test_the_checks_see_podsecurity_violations_warnings_and_unknown_fields(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The other tests' "accepted, no warning" can fail: values that break `restricted` are warned about
    through helm and refused for the pods, and a misspelt field is refused by strict validation."""
    ns = cluster.namespace("interloop-negative")
    weak = _values_file(
        tmp_path,
        "weak",
        {
            "podSecurityContext": {"seccompProfile": None},
            "containerSecurityContext": {"seccompProfile": None},
        },
    )
    done = cluster.helm("install", "interloop", CHART, "-n", ns, "-f", DEFAULT_VALUES, "-f", weak)
    assert any("would violate PodSecurity" in w for w in _warnings(done.stderr)), done.stderr
    pod = _pod_from_template(cluster.deployment(ns, "gateway"))
    reply = cluster.request("POST", f"/api/v1/namespaces/{ns}/pods?dryRun=All", pod)
    assert reply.status == 403 and "violates PodSecurity" in reply.body["message"], reply
    typo = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndata: {}\nnotAField: true\n"
    reply = cluster.request(
        "POST", f"/api/v1/namespaces/{ns}/configmaps?dryRun=All&fieldValidation=Strict", typo, yaml=True
    )
    assert reply.status == 400 and "notAField" in reply.body["message"], reply
