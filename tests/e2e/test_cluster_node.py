"""The chart installed for real (issue 15, tier 2): the images built from deploy/docker/Dockerfile, a real
single-node Kubernetes (interloop_devstack.node), PostgreSQL and Kafka outside the cluster as an SRE's
managed ones would be, `helm install --wait` with the default and production-like values, and `helm test`,
whose walking skeleton books an interview through the gateway Service and waits for the scorecard
service to have consumed it from Kafka.

Run by `make cluster-test` (make test runs it when deploy/, the image recipe or the lock file changed);
`INTERLOOP_CLUSTER_TEST=1` selects it. A machine without the kernel features it needs skips with one line."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from interloop_devstack import node as local_node
from interloop_devstack.kafka import LocalKafka
from interloop_devstack.postgres import LocalPostgres
from interloop_devstack.procs import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("INTERLOOP_CLUSTER_TEST") != "1",
        reason="the local-node tier runs under `make cluster-test` (INTERLOOP_CLUSTER_TEST=1)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy/helm/interloop"
NODE_DIR = ROOT / "deploy/helm/e2e/node"
CACHE = Path.home() / ".cache/interloop"
SERVICES = ("gateway", "scheduler", "scorecard", "sync")


def _version(name: str) -> str:
    go_mod = (ROOT / "deploy/helm/e2e/k8s/go.mod").read_text()
    return next(line.split()[2] for line in go_mod.splitlines() if line.startswith(f"require {name} "))


def _tools() -> local_node.NodeTools:
    k8s, bin_dir = _version("k8s.io/kubernetes"), CACHE / "bin"
    env = os.environ.get
    return local_node.NodeTools(
        etcd=Path(env("INTERLOOP_ETCD", "/usr/bin/etcd")),
        kube_apiserver=bin_dir / f"kube-apiserver-{k8s}",
        kube_controller_manager=bin_dir / f"kube-controller-manager-{k8s}",
        kube_scheduler=bin_dir / f"kube-scheduler-{k8s}",
        kubelet=bin_dir / f"kubelet-{k8s}",
        kube_proxy=bin_dir / f"kube-proxy-{k8s}",
        coredns=Path(env("INTERLOOP_COREDNS") or next(iter(sorted(bin_dir.glob("coredns-v*"))), "coredns")),
        containerd=Path("/usr/bin/containerd"),
        ctr=Path("/usr/bin/ctr"),
    )


def _run(args: list[str | Path], *, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    done = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args[:4]))} … failed ({done.returncode}):\n{done.stderr}{done.stdout}"
        )
    return done.stdout


@dataclass
class Deps:
    postgres: LocalPostgres
    kafka: LocalKafka

    def databases(self, prefix: str) -> dict[str, str]:
        """A database and role per service for one release, as pods reach them (the host's veth address)."""
        dsns = {}
        for svc in SERVICES:
            local = self.postgres.create_database(f"{prefix}_{svc}")
            dsns[svc] = local.replace("@127.0.0.1:", f"@{local_node.HOST_IP}:")
        return dsns


@dataclass
class Cluster:
    node: local_node.LocalNode
    deps: Deps
    env: dict[str, str]
    helm_bin: Path
    tmp: Path

    @property
    def api(self):  # type: ignore[no-untyped-def]
        assert self.node.api is not None
        return self.node.api

    def helm(self, *args: str | Path, timeout: float = 900) -> str:
        return _run([self.helm_bin, *args], env=self.env, timeout=timeout)

    def kubectl(self, *args: str | Path) -> str:
        return _run(["kubectl", *args], env=self.env)

    def values(self, name: str, values: dict[str, Any]) -> Path:
        path = self.tmp / f"{name}.json"  # JSON is YAML
        path.write_text(json.dumps(values))
        return path

    def pods(
        self, namespace: str, selector: str = "app.kubernetes.io/name=interloop"
    ) -> list[dict[str, Any]]:
        return self.api.get(f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}")["items"]

    def logs(self, namespace: str, pod: str, container: str) -> str:
        return self.api.text(f"/api/v1/namespaces/{namespace}/pods/{pod}/log?container={container}")

    def tenant_key(self, gateway_dsn: str, tenant: str) -> str:
        """A tenant and an admin API key, made the way an operator does (the interloop CLI)."""
        env = {**os.environ, "INTERLOOP_GATEWAY_DATABASE_URL": gateway_dsn}
        return _run(
            [ROOT / ".venv/bin/interloop", "tenants", "create", tenant, "--name", tenant], env=env
        ).strip()

    def secret(self, namespace: str, name: str, data: dict[str, str]) -> None:
        self.api.create(
            f"/api/v1/namespaces/{namespace}/secrets", {"metadata": {"name": name}, "stringData": data}
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    why = local_node.unavailable()
    if why:
        pytest.skip(why)
    tools = _tools()
    helm = Path(os.environ.get("HELM", CACHE / "bin/helm"))
    missing = tools.missing() + ([] if helm.is_file() else ["helm"])
    assert not missing, f"missing {', '.join(missing)}: `make node-tools` provides them"
    images = Path(_run([NODE_DIR / "images.sh"], timeout=3600).strip().splitlines()[-1])
    archives = sorted(images.glob("*.tar"))
    assert {a.stem for a in archives} == {*SERVICES, "pause"}, archives
    tmp = tmp_path_factory.mktemp("node")
    node = local_node.LocalNode(tmp / "node", tools, archives, NODE_DIR / "runc-wrap.sh")
    sysctls = {name: Path(f"/proc/sys/{name}").read_text() for name in local_node.HOST_SYSCTLS}
    postgres = kafka = None
    try:
        node.start()
        postgres = LocalPostgres(tmp / "postgres", free_port(), also_listen=(local_node.HOST_IP,))
        postgres.start()
        kafka = LocalKafka(tmp / "kafka", free_port(), free_port(), host=local_node.HOST_IP)
        kafka.start()
        home = tmp / "home"
        home.mkdir()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "KUBECONFIG": str(node.kubeconfig),
            "HELM_CACHE_HOME": str(home / "helm-cache"),
            "HELM_CONFIG_HOME": str(home / "helm-config"),
            "HELM_DATA_HOME": str(home / "helm-data"),
        }
        yield Cluster(node, Deps(postgres, kafka), env, helm, tmp)
    finally:
        node.stop()
        if kafka is not None:
            kafka.stop()
        if postgres is not None:
            postgres.stop()
    # Everything it started is gone, and the host kept its kernel settings (kubelet sets them on start).
    assert {name: Path(f"/proc/sys/{name}").read_text() for name in local_node.HOST_SYSCTLS} == sysctls
    assert node.ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def _dev_keys() -> dict[str, str]:
    return {
        key: secrets.token_urlsafe(32) + "="  # a Fernet key: 32 bytes, url-safe base64
        for key in ("scheduler-link-signing-key", "scheduler-credential-keys", "sync-credential-keys")
    }


SMALL = {svc: {"resources": {"requests": {"cpu": "20m", "memory": "128Mi"}}} for svc in SERVICES}


def _install_and_test(c: Cluster, namespace: str, values: list[Path], *, dsns: dict[str, str]) -> str:
    """helm install --wait, a tenant for the walking skeleton, then helm test; returns helm test's output."""
    args = [a for v in values for a in ("-f", v)]
    started = time.monotonic()
    try:
        c.helm("install", "interloop", CHART, "-n", namespace, *args, "--wait", "--timeout", "6m")
    except AssertionError as failed:
        raise AssertionError(f"{failed}\n{_diagnose(c, namespace)}") from None
    print(f"{namespace}: helm install --wait took {time.monotonic() - started:.0f}s")
    c.secret(namespace, "helm-test-key", {"api-key": c.tenant_key(_host_dsn(dsns["gateway"]), namespace)})
    return _helm_test(c, namespace)


def _helm_test(c: Cluster, namespace: str) -> str:
    """helm test; on failure, the test pods' logs (helm test --logs shows only the passing ones)."""
    started = time.monotonic()
    try:
        out = c.helm("test", "interloop", "-n", namespace, "--timeout", "5m")
    except AssertionError as failed:
        pods = [p["metadata"]["name"] for p in c.pods(namespace, "app.kubernetes.io/component%3Dtest")]
        logs = [
            f"--- {pod}/{container}:\n{c.logs(namespace, pod, container)}"
            for pod in pods
            for container in ("grpc-health", "http-health", "walking-skeleton")
        ]
        raise AssertionError(f"{failed}\n" + "\n".join(logs)) from None
    print(f"{namespace}: helm test took {time.monotonic() - started:.0f}s")
    return out


def _diagnose(c: Cluster, namespace: str) -> str:
    """Why a release is not ready: each pod's phase and container states, and the warning events."""
    lines = []
    for p in c.pods(namespace, "app.kubernetes.io/name%3Dinterloop"):
        states = [
            f"{s['name']}={next(iter(s.get('state', {})), '?')}{'' if s.get('ready') else '(not ready)'}"
            f" restarts={s.get('restartCount', 0)}"
            for s in p["status"].get("initContainerStatuses", []) + p["status"].get("containerStatuses", [])
        ]
        lines.append(f"{p['metadata']['name']}: {p['status'].get('phase')} {' '.join(states)}")
        for st in p["status"].get("containerStatuses", []):
            if st.get("restartCount"):  # what the last run said before it ended
                name = p["metadata"]["name"]
                log = c.api.text(
                    f"/api/v1/namespaces/{namespace}/pods/{name}/log?container={st['name']}&previous=true"
                )
                lines += [f"  | {line[:300]}" for line in log.splitlines()[-8:]]
    events = c.api.get(f"/api/v1/namespaces/{namespace}/events")["items"]
    lines += [f"event {e['reason']}: {e['message'][:200]}" for e in events if e.get("type") == "Warning"][
        -20:
    ]
    return "\n".join(lines)


def _host_dsn(pod_dsn: str) -> str:
    return pod_dsn.replace(f"@{local_node.HOST_IP}:", "@127.0.0.1:")


def _restarts(c: Cluster, namespace: str) -> dict[str, int]:
    return {
        p["metadata"]["name"]: sum(s.get("restartCount", 0) for s in p["status"].get("containerStatuses", []))
        for p in c.pods(namespace)
        if "app.kubernetes.io/component" in p["metadata"]["labels"]
        and p["metadata"]["labels"]["app.kubernetes.io/component"] != "test"
    }


def test_default_values_become_ready_and_helm_test_drives_the_walking_skeleton(cluster: Cluster) -> None:
    ns = cluster.api.namespace("interloop-default", default_service_account=False)
    dsns = cluster.deps.databases("default")
    values = cluster.values(
        "default",
        {
            "secrets": {"data": {f"{s}-database-url": dsn for s, dsn in dsns.items()} | _dev_keys()},
            "kafka": {"bootstrapServers": cluster.deps.kafka.bootstrap, "topicPrefix": "default."},
            "services": SMALL,
            "tests": {"walkingSkeleton": {"apiKeySecret": {"name": "helm-test-key"}}},
        },
    )
    out = _install_and_test(cluster, ns, [CHART / "ci/default-values.yaml", values], dsns=dsns)
    assert out.count("Phase:          Succeeded") == len(SERVICES), out
    gateway_test = "interloop-gateway-test"
    skeleton = cluster.logs(ns, gateway_test, "walking-skeleton")
    assert "expected scorecards (Kafka -> scorecard consumer -> REST)" in skeleton, skeleton
    assert set(_restarts(cluster, ns).values()) == {0}, _restarts(cluster, ns)


# -- day 2: an upgrade with a schema migration under load, then a rollback ------------------------------

PROBE_MIGRATION = "9000_e2e_upgrade_probe"


def _next_image(c: Cluster, svc: str, tag: str) -> str:
    """ghcr.io/interloop/<svc>:<tag>: the current image plus one additive migration, built with buildah
    from the images' own store and imported into the node (a release that adds a table)."""
    store = CACHE / "containers"
    env = {
        **os.environ,
        "CONTAINERS_STORAGE_CONF": str(store / "storage.conf"),
        "CONTAINERS_CONF": str(store / "containers.conf"),
        "BUILDAH_ISOLATION": "chroot",
    }
    ctx = c.tmp / f"next-{svc}"
    ctx.mkdir()
    (ctx / f"{PROBE_MIGRATION}.sql").write_text(
        "-- added by the next release: an additive (expand) change the old version ignores\n"
        "CREATE TABLE e2e_upgrade_probe (id int PRIMARY KEY);\n"
    )
    migrations = f"/app/.venv/lib/python3.11/site-packages/interloop_{svc}/migrations/"
    (ctx / "Containerfile").write_text(
        f"FROM ghcr.io/interloop/{svc}:0.1.0\nCOPY {PROBE_MIGRATION}.sql {migrations}\n"
    )
    ref = f"ghcr.io/interloop/{svc}:{tag}"
    _run(["buildah", "bud", "--quiet", "--pull=never", "-t", ref, ctx], env=env)
    archive = c.tmp / f"{svc}-{tag}.tar"
    _run(["podman", "save", "--quiet", "--format", "docker-archive", "-o", archive, ref], env=env)
    c.node.import_image(archive)
    return ref


class LoadLoop:
    """Requests through the gateway Service (its ClusterIP, as an Ingress would send them) in a thread:
    a scorecard read and a scheduler read, back to back. Counts what did not answer 200."""

    def __init__(self, base: str, key: str, booking: str, candidate: str) -> None:
        import threading

        import httpx

        self.client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        self.paths = [
            f"/v1/interviews/{booking}/expected-scorecards",
            f"/v1/interviews?candidate_id={candidate}",
        ]
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for path in self.paths:
                try:
                    r = self.client.get(path)
                    if r.status_code == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"{path}: {r.status_code} {r.text[:200]}")
                except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                    self.failures.append(f"{path}: {type(exc).__name__} {exc}")
            time.sleep(0.02)

    def __enter__(self) -> LoadLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)
        self.client.close()


def _gateway_url(c: Cluster, namespace: str) -> str:
    svc = c.api.get(f"/api/v1/namespaces/{namespace}/services/interloop-gateway")
    return f"http://{svc['spec']['clusterIP']}:8000"


def _book(base: str, key: str, run: str) -> str:
    import httpx

    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
        people = [f"{run}-a", f"{run}-b"]
        for who in people:
            r = client.post(
                "/v1/interviewers", json={"id": who, "email": f"{who}@x.test", "time_zone": "UTC"}
            )
            assert r.status_code == 200, r.text
        r = client.post(
            "/v1/interviews",
            json={
                "candidate_id": run,
                "interviewer_ids": people,
                "job_id": "e2e",
                "round": "e2e",
                "start": "2027-01-05T15:00:00Z",
                "end": "2027-01-05T16:00:00Z",
            },
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]


def _jobs(c: Cluster, namespace: str, svc: str) -> list[dict[str, Any]]:
    items = c.api.get(
        f"/apis/batch/v1/namespaces/{namespace}/jobs?labelSelector=interloop.dev/service%3D{svc}"
    )
    return items["items"]


def _job_log(c: Cluster, namespace: str, job: str) -> str:
    pods = c.pods(namespace, f"job-name%3D{job}")
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]  # ran once, no retry needed
    return c.logs(namespace, pods[0]["metadata"]["name"], "migrate")


def _images(c: Cluster, namespace: str, svc: str) -> set[str]:
    """The images of the pods that serve (not those still draining after a rollout)."""
    pods = c.pods(namespace, f"app.kubernetes.io/component%3D{svc}")
    return {p["spec"]["containers"][0]["image"] for p in pods if "deletionTimestamp" not in p["metadata"]}


def _probe_applied(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*) FROM _yoyo_migration WHERE migration_id = %s", (PROBE_MIGRATION,)
        ).fetchone()[0]


@pytest.mark.timeout(1200)
def test_migrations_run_once_in_a_job_and_an_upgrade_and_rollback_fail_no_request(cluster: Cluster) -> None:
    ns = "interloop-default"  # installed by the test above
    scorecard_dsn = cluster.deps.postgres.dsn("default_scorecard")
    # The install: one Job per service applied every migration; the pods' init containers only waited.
    for svc in SERVICES:
        (job,) = _jobs(cluster, ns, svc)
        assert job["status"].get("succeeded") == 1, job["status"]
        applied = _job_log(cluster, ns, job["metadata"]["name"])
        assert "migration(s) applied" in applied and not applied.startswith(f"{svc}: 0 "), applied
        for pod in cluster.pods(ns, f"app.kubernetes.io/component%3D{svc}"):
            waited = cluster.logs(ns, pod["metadata"]["name"], "wait-for-schema")
            assert f"{svc}: schema current" in waited, waited
            served = cluster.logs(ns, pod["metadata"]["name"], svc)
            assert "schema current (migrate_on_start off" in served and "migrations applied" not in served

    key = cluster.api.get(f"/api/v1/namespaces/{ns}/secrets/helm-test-key")["data"]["api-key"]
    import base64

    key = base64.b64decode(key).decode()
    base = _gateway_url(cluster, ns)
    candidate = f"upgrade-{secrets.token_hex(4)}"
    booking = _book(base, key, candidate)
    next_tag = "0.1.1-e2e"
    _next_image(cluster, "scorecard", next_tag)
    (before,) = _jobs(cluster, ns, "scorecard")

    with LoadLoop(base, key, booking, candidate) as load:
        time.sleep(2)
        cluster.helm(
            "upgrade", "interloop", CHART, "-n", ns, "--reuse-values",
            "--set", f"services.scorecard.image.tag={next_tag}", "--wait", "--timeout", "10m",
        )  # fmt: skip
        time.sleep(3)
    print(f"upgrade: {load.ok} requests answered, {len(load.failures)} failed")
    assert load.ok > 50 and not load.failures, load.failures[:5]
    (after,) = _jobs(cluster, ns, "scorecard")
    assert after["metadata"]["name"] != before["metadata"]["name"]  # a new version, a new Job
    assert (
        _job_log(cluster, ns, after["metadata"]["name"]).strip().endswith("scorecard: 1 migration(s) applied")
    )
    assert _probe_applied(scorecard_dsn) == 1
    assert _images(cluster, ns, "scorecard") == {f"ghcr.io/interloop/scorecard:{next_tag}"}
    for svc in ("gateway", "scheduler", "sync"):  # only the changed service rolled
        assert (
            cluster.api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/interloop-{svc}")["metadata"][
                "generation"
            ]
            == 1
        )

    with LoadLoop(base, key, booking, candidate) as load:
        time.sleep(2)
        cluster.helm("rollback", "interloop", "1", "-n", ns, "--wait", "--timeout", "10m")
        time.sleep(3)
    print(f"rollback: {load.ok} requests answered, {len(load.failures)} failed")
    assert load.ok > 50 and not load.failures, load.failures[:5]
    assert _images(cluster, ns, "scorecard") == {"ghcr.io/interloop/scorecard:0.1.0"}
    (again,) = _jobs(cluster, ns, "scorecard")
    assert again["metadata"]["name"] == before["metadata"]["name"]
    assert (
        _job_log(cluster, ns, again["metadata"]["name"]).strip().endswith("scorecard: 0 migration(s) applied")
    )
    assert _probe_applied(scorecard_dsn) == 1  # the schema is never rolled back; the old code ignores it
    out = _helm_test(cluster, ns)
    assert out.count("Phase:          Succeeded") == len(SERVICES), out


# -- the images, as the node runs them -----------------------------------------------------------------

IMAGE_CHECK = """
import getpass, importlib.util, os, shutil, subprocess, sys
svc = sys.argv[1]
problems = []
if os.getuid() != 10001 or getpass.getuser() != "interloop":
    problems.append(f"runs as uid {os.getuid()} ({getpass.getuser()}), not interloop (10001)")
for other in ("gateway", "scheduler", "scorecard", "sync"):
    found = importlib.util.find_spec(f"interloop_{other}") is not None
    if found != (other == svc):
        problems.append(f"interloop_{other} {'present' if found else 'missing'}")
for tool in ("gcc", "cc", "uv", "git"):
    if shutil.which(tool):
        problems.append(f"build tool {tool} at {shutil.which(tool)}")
if importlib.util.find_spec("grpc_tools") is not None:
    problems.append("grpcio-tools left in the image")
done = subprocess.run(["yoyo", "--help"], capture_output=True)  # a console script of the venv
if done.returncode != 0:
    problems.append(f"yoyo console script broken: {done.returncode} {done.stderr[:200]!r}")
print("\\n".join(problems) or f"{svc}: image ok")
sys.exit(1 if problems else 0)
"""


def _run_pod(c: Cluster, namespace: str, name: str, image: str, args: list[str]) -> tuple[str, str]:
    """A one-off pod under PodSecurity `restricted`; returns (phase, log) once it has finished."""
    hardened = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    c.api.create(
        f"/api/v1/namespaces/{namespace}/pods",
        {
            "metadata": {"name": name},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "containers": [{"name": "check", "image": image, "args": args, "securityContext": hardened}],
            },
        },
    )
    deadline = time.monotonic() + 120
    while (phase := c.api.get(f"/api/v1/namespaces/{namespace}/pods/{name}")["status"].get("phase")) not in (
        "Succeeded",
        "Failed",
    ):
        assert time.monotonic() < deadline, f"pod {name} still {phase}"
        time.sleep(1)
    return phase, c.logs(namespace, name, "check")


def test_each_image_holds_only_its_service_runs_as_interloop_and_has_working_console_scripts(
    cluster: Cluster,
) -> None:
    ns = cluster.api.namespace("interloop-images", default_service_account=False)
    for svc in SERVICES:
        phase, log = _run_pod(
            cluster, ns, f"check-{svc}", f"ghcr.io/interloop/{svc}:0.1.0", ["python", "-c", IMAGE_CHECK, svc]
        )
        assert phase == "Succeeded" and f"{svc}: image ok" in log, (svc, phase, log)


# -- production-like values: three replicas, an existing Secret, mutual TLS, every switch on -----------


def _partner_tls(c: Cluster) -> dict[str, str]:
    from interloop_devstack import kube

    d = kube.pki(
        c.tmp / "partner-pki",
        {"partner": kube.serving_leaf("interloop-gateway", ["DNS:interloop-gateway", "DNS:localhost"])},
    )
    return {
        "tls.crt": (d / "partner.crt").read_text(),
        "tls.key": (d / "partner.key").read_text(),
        "ca.crt": (d / "ca.crt").read_text(),
    }


def _ready(c: Cluster, namespace: str, svc: str) -> int:
    d = c.api.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/interloop-{svc}")
    return d["status"].get("readyReplicas", 0)


def _evict(c: Cluster, namespace: str, pod: str) -> int:
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
    return c.api.request("POST", f"/api/v1/namespaces/{namespace}/pods/{pod}/eviction", body).status


def _expected(client, booking: str) -> int:  # type: ignore[no-untyped-def]
    r = client.get(f"/v1/interviews/{booking}/expected-scorecards")
    return len(r.json()["items"]) if r.status_code == 200 else -1


@pytest.mark.timeout(1200)
def test_production_values_become_ready_lose_no_event_when_a_pod_goes_and_the_pdb_holds_a_drain(
    cluster: Cluster,
) -> None:
    import httpx

    ns = cluster.api.namespace("interloop-production", default_service_account=False)
    owners = cluster.deps.databases("prod")
    # migrations.separateRole: the Job migrates as each database's owner, the services run as roles that
    # own nothing (made by the DBA: login, NOSUPERUSER NOBYPASSRLS, CONNECT).
    dsns = {}
    for svc, owner in owners.items():
        role = f"prod_{svc}_app"
        cluster.deps.postgres.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{role}' NOSUPERUSER NOBYPASSRLS")
        cluster.deps.postgres.psql(f'GRANT CONNECT ON DATABASE "prod_{svc}" TO {role}')
        dsns[svc] = f"postgresql://{role}:{role}@{owner.split('@', 1)[1]}"
    managed = {f"{s}-database-url": dsn for s, dsn in dsns.items()} | _dev_keys()
    managed |= {f"{s}-migration-database-url": dsn for s, dsn in owners.items()}
    managed["kafka-bootstrap-servers"] = cluster.deps.kafka.bootstrap
    cluster.secret(ns, "interloop-production", managed)
    cluster.api.create(
        f"/api/v1/namespaces/{ns}/secrets",
        {
            "metadata": {"name": "interloop-partner-tls"},
            "type": "kubernetes.io/tls",
            "stringData": _partner_tls(cluster),
        },
    )
    overrides = cluster.values(
        "production",
        {
            # One node of two cores, one broker, no collector: the rest is ci/production-values.yaml.
            "services": {
                s: {"image": {"tag": "0.1.0"}, "resources": {"requests": {"cpu": "20m", "memory": "128Mi"}}}
                for s in SERVICES
            },
            "kafka": {"topicPrefix": "prod.", "topics": {"replication": 1}},
            "telemetry": {"otlpEndpoint": ""},
            "tests": {"walkingSkeleton": {"apiKeySecret": {"name": "helm-test-key"}}},
        },
    )
    out = _install_and_test(cluster, ns, [CHART / "ci/production-values.yaml", overrides], dsns=dsns)
    assert out.count("Phase:          Succeeded") == len(SERVICES), out
    assert {s: _ready(cluster, ns, s) for s in SERVICES} == dict.fromkeys(SERVICES, 3)
    assert set(_restarts(cluster, ns).values()) == {0}, _restarts(cluster, ns)
    # The services serve as roles that own no table.
    for svc in SERVICES:
        owned = cluster.deps.postgres.psql(
            f"SELECT count(*) FROM pg_tables WHERE tableowner = 'prod_{svc}_app'", database=f"prod_{svc}"
        )
        assert owned.strip() == "0", (svc, owned)

    # A stream of bookings while a scorecard pod is deleted (its partitions move to the others) and a sync
    # pod is killed outright: every booking still opens exactly its two expected scorecards.
    key = cluster.tenant_key(_host_dsn(dsns["gateway"]), "prod-stream")
    base = _gateway_url(cluster, ns)
    scorecards = [p["metadata"]["name"] for p in cluster.pods(ns, "app.kubernetes.io/component%3Dscorecard")]
    syncs = [p["metadata"]["name"] for p in cluster.pods(ns, "app.kubernetes.io/component%3Dsync")]
    bookings = []
    for i in range(30):
        bookings.append(_book(base, key, f"stream-{i}-{secrets.token_hex(3)}"))
        if i == 10:
            cluster.api.request("DELETE", f"/api/v1/namespaces/{ns}/pods/{scorecards[0]}")
        if i == 20:
            cluster.api.request("DELETE", f"/api/v1/namespaces/{ns}/pods/{syncs[0]}?gracePeriodSeconds=0")
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
        while (counts := [_expected(client, b) for b in bookings]) != [2] * len(bookings):
            assert time.monotonic() < deadline, f"expected scorecards per booking: {counts}"
            time.sleep(2)
    print(f"production: {len(bookings)} bookings, each with its 2 expected scorecards after a pod went")

    # A drain evicts through the PodDisruptionBudget (maxUnavailable 1): of three scorecard pods, one goes
    # and the others are refused until its replacement is ready.
    deadline = time.monotonic() + 180
    while _ready(cluster, ns, "scorecard") < 3:
        assert time.monotonic() < deadline, "scorecard did not get back to 3 ready"
        time.sleep(2)
    live = [
        p["metadata"]["name"]
        for p in cluster.pods(ns, "app.kubernetes.io/component%3Dscorecard")
        if "deletionTimestamp" not in p["metadata"]
    ]
    assert [_evict(cluster, ns, p) for p in live] == [201, 429, 429]
    pdb = f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/interloop-scorecard"
    while (
        cluster.api.request("GET", f"/api/v1/namespaces/{ns}/pods/{live[0]}").status != 404
        or cluster.api.get(pdb)["status"].get("disruptionsAllowed", 0) < 1
    ):
        assert time.monotonic() < deadline, f"no replacement for {live[0]}: {cluster.api.get(pdb)['status']}"
        time.sleep(2)
    assert _evict(cluster, ns, live[1]) == 201  # the budget is back once the replacement is ready
