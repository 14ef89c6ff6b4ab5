"""Throwaway Kubernetes pieces for the chart's tests: a PKI, kubeconfigs and a small REST client.

Used by the API-server-only tier (tests/e2e/test_chart_install.py) and by the local node
(`interloop_devstack.node`, tests/e2e/test_cluster_node.py)."""

from __future__ import annotations

import json
import secrets
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PSA_LEVEL = "restricted"

_CA_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = interloop-test-ca
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""


def pki(d: Path, leaves: dict[str, tuple[str, str]]) -> Path:
    """A CA, one certificate per leaf (name: (subject, openssl extensions)) and the service-account
    signing key pair: EC P-256, valid for a day, in d (name.crt / name.key)."""
    d.mkdir(parents=True)
    (d / "ca.cnf").write_text(_CA_CNF)
    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

    def openssl(command: str) -> None:
        done = subprocess.run(["openssl", *command.split()], cwd=d, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"openssl {command.split()[0]} failed: {done.stderr.strip()}")

    openssl(f"req -x509 -config ca.cnf -extensions ca {ec} -days 1 -keyout ca.key -out ca.crt")
    for name, (subject, ext) in leaves.items():
        (d / f"{name}.ext").write_text(f"{ext}\nkeyUsage = critical,digitalSignature\n")
        openssl(f"req -new {ec} -subj {subject} -keyout {name}.key -out {name}.csr")
        openssl(
            f"x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -set_serial {secrets.randbits(63)} -days 1 "
            f"-extfile {name}.ext -out {name}.crt"
        )
    openssl("ecparam -name prime256v1 -genkey -noout -out sa.key")
    openssl("ec -in sa.key -pubout -out sa.pub")
    return d


def client_leaf(user: str, group: str = "") -> tuple[str, str]:
    subject = (f"/O={group}" if group else "") + f"/CN={user}"
    return subject, "extendedKeyUsage = clientAuth"


def serving_leaf(cn: str, sans: list[str]) -> tuple[str, str]:
    return f"/CN={cn}", f"subjectAltName = {', '.join(sans)}\nextendedKeyUsage = serverAuth"


def kubeconfig(server: str, pki_dir: Path, user: str = "admin") -> str:
    cluster = {"server": server, "certificate-authority": str(pki_dir / "ca.crt")}
    creds = {"client-certificate": str(pki_dir / f"{user}.crt"), "client-key": str(pki_dir / f"{user}.key")}
    return json.dumps(  # JSON is YAML
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "test", "cluster": cluster}],
            "users": [{"name": user, "user": creds}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": user}}],
            "current-context": "test",
        }
    )


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    warnings: list[str]


@dataclass
class KubeApi:
    """The API server's REST API as the admin (system:masters) sees it."""

    url: str
    pki: Path
    _ssl: ssl.SSLContext = field(init=False, repr=False)
    _resources: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._ssl = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        self._ssl.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))

    def text(self, path: str) -> str:
        """A plain-text GET (pod logs)."""
        req = urllib.request.Request(self.url + path)  # noqa: S310 - the API server's https URL
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=30) as resp:  # noqa: S310
                return resp.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return f"HTTP {e.code}: {e.read().decode(errors='replace')}"

    def request(self, method: str, path: str, body: Any = None, *, yaml: bool = False) -> Reply:
        data = None if body is None else (body.encode() if yaml else json.dumps(body).encode())
        content_type = "application/yaml" if yaml else "application/json"
        if method == "PATCH":
            content_type = "application/merge-patch+json"
        req = urllib.request.Request(  # noqa: S310 - the API server's https URL
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=30) as resp:  # noqa: S310 - https only
                status, raw, headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, raw, headers = e.code, e.read(), e.headers
        parsed = json.loads(raw) if raw.strip().startswith(b"{") else {"raw": raw.decode(errors="replace")}
        return Reply(status, parsed, headers.get_all("Warning") or [])

    def get(self, path: str) -> dict[str, Any]:
        reply = self.request("GET", path)
        assert reply.status == 200, f"GET {path}: {reply.status} {reply.body}"
        return reply.body

    def create(self, path: str, obj: dict[str, Any]) -> None:
        reply = self.request("POST", path + "?fieldValidation=Strict", obj)
        assert reply.status in (200, 201) and not reply.warnings, f"POST {path}: {reply.status} {reply}"

    def wait_ready(self, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while (ready := self._readyz()).status != 200:
            assert proc.poll() is None, f"kube-apiserver exited; see {log}"
            assert time.monotonic() < deadline, f"kube-apiserver not ready in {timeout}s: {ready.body}"
            time.sleep(0.2)

    def _readyz(self) -> Reply:
        try:
            return self.request("GET", "/readyz")
        except OSError as exc:  # not listening yet
            return Reply(0, {"error": str(exc)}, [])

    def resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        """(REST path prefix, namespaced) of a kind, from the server's discovery."""
        if (api_version, kind) not in self._resources:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            for r in self.get(base)["resources"]:
                if "/" not in r["name"]:
                    self._resources[(api_version, r["kind"])] = (f"{base}/{r['name']}", r["namespaced"])
        return self._resources[(api_version, kind)]

    def path(self, api_version: str, kind: str, namespace: str, name: str = "") -> str:
        prefix, namespaced = self.resource(api_version, kind)
        if namespaced:
            base, plural = prefix.rsplit("/", 1)
            prefix = f"{base}/namespaces/{namespace}/{plural}"
        return f"{prefix}/{name}" if name else prefix

    def namespace(self, name: str, *, default_service_account: bool = True) -> str:
        """A namespace that enforces (and warns and audits at) PodSecurity `restricted`. Without a
        controller manager, also the default ServiceAccount it would create (admission wants it)."""
        levels = {f"pod-security.kubernetes.io/{m}": PSA_LEVEL for m in ("enforce", "warn", "audit")}
        versions = {f"pod-security.kubernetes.io/{m}-version": "latest" for m in ("enforce", "warn", "audit")}
        self.create("/api/v1/namespaces", {"metadata": {"name": name, "labels": levels | versions}})
        if default_service_account:
            self.create(f"/api/v1/namespaces/{name}/serviceaccounts", {"metadata": {"name": "default"}})
        return name
