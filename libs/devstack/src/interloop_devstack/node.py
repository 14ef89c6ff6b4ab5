"""A real single-node Kubernetes on this machine, for the chart's install tests (issue 15, tier 2).

Everything runs as our own child processes inside one network namespace, so nothing the cluster does
(iptables, the pod bridge, routes) touches the host's interfaces:

    host                      netns il<pid>
    10.200.0.1  <-- veth -->  10.200.0.2 (the node): etcd, kube-apiserver, controller manager, scheduler,
    PostgreSQL, Kafka         containerd (+ runc), kubelet, kube-proxy (iptables), CoreDNS; pods on
    (the "managed" ones)      10.244.0.0/24 behind the CNI bridge, Services on 10.96.0.0/16

The host reaches the API server, Services and pods through routes over the veth (removed with it), and pods
reach the host's PostgreSQL and Kafka through the node (masqueraded by the CNI bridge), as they would reach
an SRE's managed database and brokers.

Binaries: etcd, containerd, runc and the CNI plugins from Debian; the Kubernetes binaries and CoreDNS
from the Go module proxy (`make node-tools`). Three workarounds for restricted sandboxes, all no-ops on a
normal host: kubelet runs in a mount namespace of its own where the kernel-wide sysctls it insists on
setting (kernel.panic, vm.overcommit_memory, ...) are plain files, so the host keeps its values; runc is
wrapped to clamp a negative oom_score_adj some sandboxes refuse even to root; pods live in a cgroup under
this process's own memory cgroup."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from interloop_devstack import kube
from interloop_devstack.procs import StackError, spawn, stop

HOST_IP = "10.200.0.1"
NODE_IP = "10.200.0.2"
NODE_NAME = "interloop-node"
POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/16"
DNS_IP = NODE_IP  # CoreDNS runs as a process on the node, like NodeLocal DNSCache
HOST_SYSCTLS = (  # what kubelet sets on start (protectKernelDefaults: false)
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)


@dataclass
class NodeTools:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubelet: Path
    kube_proxy: Path
    coredns: Path
    containerd: Path
    ctr: Path

    def missing(self) -> list[str]:
        return [name for name, path in vars(self).items() if not Path(path).is_file()]


def unavailable() -> str | None:
    """Why this machine cannot run the node (one line), or None."""
    if os.geteuid() != 0:
        return "the local Kubernetes node needs root (network namespaces, cgroups, containerd)"
    for tool in ("ip", "nsenter", "unshare", "iptables", "runc", "mount"):
        if shutil.which(tool) is None:
            return f"the local Kubernetes node needs `{tool}` (make node-tools installs it)"
    if not Path("/sys/fs/cgroup/memory").is_dir() and not Path("/sys/fs/cgroup/cgroup.controllers").exists():
        return "the local Kubernetes node needs cgroups (no /sys/fs/cgroup hierarchy here)"
    probe = f"ilprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"the local Kubernetes node needs network namespaces: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _own_cgroup() -> str:
    """This process's memory cgroup (v1), else its unified cgroup (v2): pods go below it, so they count
    against whatever limit this process runs under."""
    unified = "/"
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path
        if controllers == "":
            unified = path
    return unified


@dataclass
class LocalNode:
    """Start with start(), tear down with stop() (also after a failed start)."""

    base: Path
    tools: NodeTools
    images: list[Path]  # docker-archive tarballs imported into containerd (pause included)
    runc_wrapper: Path
    ns: str = field(default_factory=lambda: f"il{os.getpid()}")
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    api: kube.KubeApi | None = None

    @property
    def host_link(self) -> str:
        return f"{self.ns}h"[:15]

    @property
    def kubeconfig(self) -> Path:
        return self.base / "admin.kubeconfig"

    @property
    def run_dir(self) -> Path:
        return self.base / "run"

    @property
    def cgroup_root(self) -> str:
        return f"{_own_cgroup().rstrip('/')}/{self.ns}"

    def _in_ns(self, *args: str | Path) -> list[str]:
        return ["nsenter", f"--net=/run/netns/{self.ns}", *map(str, args)]

    def _sh(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise StackError(f"{' '.join(map(str, args[:4]))} failed: {(done.stderr or done.stdout).strip()}")
        return done

    def _spawn(self, name: str, args: list[str], **kw: object) -> None:
        self.procs[name] = spawn(args, log=self.base / "logs" / f"{name}.log", **kw)  # type: ignore[arg-type]

    # -- start ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self._network()
        self._pki()
        self._control_plane()
        self._containerd()
        self._kubelet()
        self._proxy_and_dns()
        self._wait_node_ready()

    def _network(self) -> None:
        _sweep_stale_nodes()
        _RECORDS.mkdir(parents=True, exist_ok=True)
        (_RECORDS / self.ns).write_text(json.dumps({"base": str(self.base), "cgroup": self.cgroup_root}))
        self._sh("ip", "netns", "add", self.ns)
        self._sh(
            "ip", "link", "add", self.host_link, "type", "veth", "peer", "name", "node0", "netns", self.ns
        )
        self._sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", self.host_link)
        self._sh("ip", "link", "set", self.host_link, "up")
        n = ("ip", "-n", self.ns)
        self._sh(*n, "link", "set", "lo", "up")
        self._sh(*n, "addr", "add", f"{NODE_IP}/24", "dev", "node0")
        self._sh(*n, "link", "set", "node0", "up")
        self._sh(*n, "route", "add", "default", "via", HOST_IP, "dev", "node0")
        # The host reaches Services and pods through the node (the routes go with the veth).
        for cidr in (SERVICE_CIDR, POD_CIDR):
            self._sh("ip", "route", "add", cidr, "via", NODE_IP, "dev", self.host_link)
        for sysctl in ("net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"):
            self._sh(*self._in_ns("sysctl", "-qw", sysctl), check=False)

    def _pki(self) -> None:
        leaves = {
            "apiserver": kube.serving_leaf(
                "kube-apiserver",
                [
                    "IP:127.0.0.1",
                    f"IP:{NODE_IP}",
                    "IP:10.96.0.1",
                    "DNS:kubernetes",
                    "DNS:kubernetes.default",
                    "DNS:kubernetes.default.svc",
                    "DNS:kubernetes.default.svc.cluster.local",
                ],
            ),
            "kubelet": kube.serving_leaf(NODE_NAME, [f"IP:{NODE_IP}", f"DNS:{NODE_NAME}"]),
            "admin": kube.client_leaf("interloop-test-admin", "system:masters"),
            "apiserver-kubelet-client": kube.client_leaf("kube-apiserver-kubelet-client", "system:masters"),
            "node": kube.client_leaf(f"system:node:{NODE_NAME}", "system:nodes"),
            "kcm": kube.client_leaf("system:kube-controller-manager"),
            "scheduler": kube.client_leaf("system:kube-scheduler"),
            "proxy": kube.client_leaf("system:kube-proxy"),
        }
        pki = kube.pki(self.base / "pki", leaves)
        server = f"https://{NODE_IP}:6443"
        for user in ("admin", "node", "kcm", "scheduler", "proxy"):
            (self.base / f"{user}.kubeconfig").write_text(kube.kubeconfig(server, pki, user))
        self.api = kube.KubeApi(server, pki)

    def _control_plane(self) -> None:
        pki = self.base / "pki"
        self._spawn(
            "etcd",
            self._in_ns(
                self.tools.etcd,
                "--name=node",
                f"--data-dir={self.run_dir / 'etcd'}",
                "--listen-client-urls=http://127.0.0.1:2379",
                "--advertise-client-urls=http://127.0.0.1:2379",
                "--listen-peer-urls=http://127.0.0.1:2380",
                "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                "--initial-cluster=node=http://127.0.0.1:2380",
                "--log-level=warn",
            ),
        )
        self._spawn(
            "kube-apiserver",
            self._in_ns(
                self.tools.kube_apiserver,
                "--etcd-servers=http://127.0.0.1:2379",
                f"--bind-address={NODE_IP}",
                f"--advertise-address={NODE_IP}",
                "--secure-port=6443",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
                f"--kubelet-certificate-authority={pki / 'ca.crt'}",
                "--kubelet-preferred-address-types=InternalIP",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction",
                "--allow-privileged=false",
                "--profiling=false",
                f"--cert-dir={self.run_dir / 'apiserver-certs'}",
            ),
        )
        assert self.api is not None
        self.api.wait_ready(self.procs["kube-apiserver"], self.base / "logs/kube-apiserver.log", timeout=180)
        common = ["--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false"]
        self._spawn(
            "kube-controller-manager",
            self._in_ns(
                self.tools.kube_controller_manager,
                *[
                    f"--{f}={self.base / 'kcm.kubeconfig'}"
                    for f in ("kubeconfig", "authentication-kubeconfig")
                ],
                f"--authorization-kubeconfig={self.base / 'kcm.kubeconfig'}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                "--use-service-account-credentials=true",
                f"--cluster-cidr={POD_CIDR}",
                "--allocate-node-cidrs=true",
                "--node-cidr-mask-size=24",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                # One node: evict nothing for a slow heartbeat under load.
                "--node-monitor-grace-period=120s",
                *common,
            ),
        )
        sched = self.base / "scheduler.kubeconfig"
        self._spawn(
            "kube-scheduler",
            self._in_ns(
                self.tools.kube_scheduler,
                f"--kubeconfig={sched}",
                f"--authentication-kubeconfig={sched}",
                f"--authorization-kubeconfig={sched}",
                *common,
            ),
        )

    def _containerd(self) -> None:
        run = self.run_dir / "containerd"
        cni = self.base / "cni"
        cni.mkdir(parents=True, exist_ok=True)
        (cni / "10-interloop.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "0.4.0",
                    "name": "interloop",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": "cni0",
                            "isGateway": True,
                            "ipMasq": True,
                            "hairpinMode": True,
                            "ipam": {
                                "type": "host-local",
                                "ranges": [[{"subnet": "10.244.0.0/24"}]],
                                "routes": [{"dst": "0.0.0.0/0"}],
                            },
                        },
                        {"type": "portmap", "capabilities": {"portMappings": True}},
                    ],
                }
            )
        )
        config = self.base / "containerd.toml"
        config.write_text(
            f"""version = 2
root = "{run}/root"
state = "{run}/state"
[grpc]
  address = "{run}/containerd.sock"
[ttrpc]
  address = "{run}/containerd.sock.ttrpc"
[debug]
  address = "{run}/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  enable_selinux = false
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "{self.runc_wrapper}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni}"
"""
        )
        self._spawn("containerd", self._in_ns(self.tools.containerd, "--config", config))
        deadline = time.monotonic() + 60
        while self._ctr("version", check=False).returncode != 0:
            if self.procs["containerd"].poll() is not None or time.monotonic() > deadline:
                raise StackError(f"containerd did not start; see {self.base / 'logs/containerd.log'}")
            time.sleep(0.25)
        for archive in self.images:
            self._ctr("images", "import", "--no-unpack", archive)

    def import_image(self, archive: Path) -> None:
        """Load a docker-archive tarball into the node's containerd (what a registry pull would do)."""
        self._ctr("images", "import", "--no-unpack", archive)

    def _ctr(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        sock = self.run_dir / "containerd/containerd.sock"
        return self._sh(self.tools.ctr, "--address", sock, "-n", "k8s.io", *args, check=check)

    def _kubelet(self) -> None:
        _make_cgroup(self.cgroup_root)
        pki = self.base / "pki"
        resolv = self.base / "resolv.conf"
        resolv.write_text(f"nameserver {DNS_IP}\n")
        config = self.base / "kubelet.json"
        config.write_text(
            json.dumps(
                {
                    "apiVersion": "kubelet.config.k8s.io/v1beta1",
                    "kind": "KubeletConfiguration",
                    "address": NODE_IP,
                    "port": 10250,
                    "readOnlyPort": 0,
                    "healthzBindAddress": "127.0.0.1",
                    "authentication": {
                        "anonymous": {"enabled": False},
                        "webhook": {"enabled": True},
                        "x509": {"clientCAFile": str(pki / "ca.crt")},
                    },
                    "authorization": {"mode": "Webhook"},
                    "tlsCertFile": str(pki / "kubelet.crt"),
                    "tlsPrivateKeyFile": str(pki / "kubelet.key"),
                    "containerRuntimeEndpoint": f"unix://{self.run_dir / 'containerd/containerd.sock'}",
                    "cgroupDriver": "cgroupfs",
                    "cgroupRoot": self.cgroup_root,
                    "cgroupsPerQOS": True,
                    "enforceNodeAllocatable": ["pods"],
                    "failCgroupV1": False,
                    "failSwapOn": False,
                    "protectKernelDefaults": False,
                    "clusterDNS": [DNS_IP],
                    "clusterDomain": "cluster.local",
                    "resolvConf": str(resolv),
                    "maxPods": 60,
                    "serializeImagePulls": False,
                    "imageGCHighThresholdPercent": 100,
                    "evictionHard": {
                        "memory.available": "200Mi",
                        "nodefs.available": "2%",
                        "imagefs.available": "2%",
                    },
                    "syncFrequency": "10s",
                    "nodeStatusUpdateFrequency": "5s",
                    "podLogsDir": str(self.run_dir / "pod-logs"),
                    "shutdownGracePeriod": "0s",
                }
            )
        )
        fake = self.base / "fake-sysctl"
        fake.mkdir(exist_ok=True)
        binds = []
        for name in HOST_SYSCTLS:
            copy = fake / name.replace("/", ".")
            copy.write_text(Path(f"/proc/sys/{name}").read_text())
            binds.append(f"mount --bind {copy} /proc/sys/{name}")
        kubelet = " ".join(
            self._in_ns(
                self.tools.kubelet,
                f"--config={config}",
                f"--kubeconfig={self.base / 'node.kubeconfig'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={NODE_IP}",
                f"--root-dir={self.run_dir / 'kubelet'}",
                f"--cert-dir={self.run_dir / 'kubelet-pki'}",
                "--v=1",
            )
        )
        # The volumes kubelet mounts (Secrets, projected tokens: tmpfs) must reach containerd, which runs in
        # the host's mount namespace: its root dir is a shared bind mount, a peer in both namespaces, while
        # /proc, where the fake sysctls go, stays private to kubelet's.
        root = self.run_dir / "kubelet"
        root.mkdir(parents=True, exist_ok=True)
        self._sh("mount", "--bind", root, root)
        self._sh("mount", "--make-rshared", root)
        script = " && ".join(["mount --make-rprivate /proc", *binds, f"exec {kubelet}"])
        self._spawn("kubelet", ["unshare", "--mount", "--propagation", "unchanged", "sh", "-c", script])

    def _proxy_and_dns(self) -> None:
        corefile = self.base / "Corefile"
        corefile.write_text(
            f"""cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {{
    bind {DNS_IP}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {self.kubeconfig} test
        pods insecure
    }}
    cache 5
}}
.:53 {{
    bind {DNS_IP}
    template ANY ANY {{
        rcode NXDOMAIN
    }}
}}
"""
        )
        self._spawn("coredns", self._in_ns(self.tools.coredns, "-conf", corefile))
        self._spawn(
            "kube-proxy",
            self._in_ns(
                self.tools.kube_proxy,
                f"--kubeconfig={self.base / 'proxy.kubeconfig'}",
                f"--hostname-override={NODE_NAME}",
                "--proxy-mode=iptables",
                f"--cluster-cidr={POD_CIDR}",
                # Leave the (kernel-wide) conntrack sysctls alone.
                "--conntrack-max-per-core=0",
                "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0",
                "--metrics-bind-address=127.0.0.1:10249",
                "--healthz-bind-address=127.0.0.1:10256",
            ),
        )

    def _wait_node_ready(self, timeout: float = 180) -> None:
        assert self.api is not None
        deadline = time.monotonic() + timeout
        while True:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise StackError(f"{name} exited; see {self.base / 'logs' / name}.log")
            node = self.api.request("GET", f"/api/v1/nodes/{NODE_NAME}")
            status = node.body.get("status") if node.status == 200 else {}
            conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
            if conditions.get("Ready") == "True" and node.body["spec"].get("podCIDR"):
                return
            if time.monotonic() > deadline:
                raise StackError(f"node not Ready in {timeout}s: {conditions}; see {self.base / 'logs'}")
            time.sleep(1)

    # -- stop ----------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything started, by PID, then the pods' processes by cgroup, the mounts under base,
        the namespace (with its veth and routes) and the cgroup tree."""
        stop(self.procs.pop("kubelet", None), timeout=20)
        _kill_cgroup_tree(self.cgroup_root)
        for name in ("kube-proxy", "coredns", "containerd", "kube-scheduler", "kube-controller-manager"):
            stop(self.procs.pop(name, None), timeout=15)
        for name in list(self.procs):
            stop(self.procs.pop(name), timeout=20)
        _teardown(self.ns, self.base, self.cgroup_root)


# Where each running node records its namespace, base directory and cgroup, so a later run can clean up
# after one whose process was killed before it could (SIGKILL, a CI timeout).
_RECORDS = Path("/run/interloop-node")


def _teardown(ns: str, base: Path, cgroup_root: str) -> None:
    _kill_cgroup_tree(cgroup_root)
    _kill_netns_pids(ns)
    _unmount_under(base)
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    _remove_cgroup_tree(cgroup_root)
    (_RECORDS / ns).unlink(missing_ok=True)


def _cgroup_dirs(root: str) -> list[Path]:
    """The directories of cgroup `root` in every mounted hierarchy (v1 controllers, or v2)."""
    dirs = []
    base = Path("/sys/fs/cgroup")
    candidates = (
        [base] if (base / "cgroup.controllers").exists() else [p for p in base.iterdir() if p.is_dir()]
    )
    for hierarchy in candidates:
        d = hierarchy / root.lstrip("/")
        if d.is_dir():
            dirs.append(d)
    return dirs


def _make_cgroup(root: str) -> None:
    """kubelet wants its cgroup root in every hierarchy; a new v1 cpuset takes its parent's CPUs and
    memory nodes."""
    base = Path("/sys/fs/cgroup")
    if (base / "cgroup.controllers").exists():
        (base / root.lstrip("/")).mkdir(parents=True, exist_ok=True)
        return
    for hierarchy in base.iterdir():
        if not hierarchy.is_dir() or hierarchy.name == "unified" or hierarchy.is_symlink():
            continue
        d = hierarchy
        for part in root.strip("/").split("/"):
            parent, d = d, d / part
            d.mkdir(exist_ok=True)
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if (d / knob).exists() and not (d / knob).read_text().strip():
                    (d / knob).write_text((parent / knob).read_text())


def _kill_until_gone(pids_of: Callable[[], set[int]]) -> None:
    for _ in range(20):
        pids = pids_of()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.25)


def _kill_cgroup_tree(root: str) -> None:
    """The pods' processes: everything in kubelet's cgroup tree."""

    def pids() -> set[int]:
        found: set[int] = set()
        for d in _cgroup_dirs(root):
            for here, _, files in os.walk(d):  # cgroups vanish as their processes go: walk errors are ignored
                if "cgroup.procs" in files:
                    try:
                        found |= {int(p) for p in Path(here, "cgroup.procs").read_text().split()}
                    except OSError:
                        pass
        return found

    _kill_until_gone(pids)


def _remove_cgroup_tree(root: str) -> None:
    for d in _cgroup_dirs(root):
        for here, _, _ in sorted(os.walk(d), key=lambda w: -len(Path(w[0]).parts)):
            try:
                Path(here).rmdir()
            except OSError:
                pass
        try:
            d.rmdir()
        except OSError:
            pass


def _kill_netns_pids(ns: str) -> None:
    """Whatever still runs in the namespace (containerd's shims daemonise themselves)."""

    def pids() -> set[int]:
        done = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        return {int(p) for p in done.stdout.split()}

    _kill_until_gone(pids)


def _unmount_under(base: Path) -> None:
    prefix = str(base.resolve())
    for _ in range(5):
        mounts = [
            line.split()[1].replace("\\040", " ")
            for line in Path("/proc/self/mounts").read_text().splitlines()
            if line.split()[1].startswith(prefix)
        ]
        if not mounts:
            return
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True)


def _sweep_stale_nodes() -> None:
    """What a run whose process died left behind (pods, mounts, the namespace, cgroups) is removed, so
    its addresses and directories are free again."""
    records = {p.name: p for p in _RECORDS.glob("il*")} if _RECORDS.is_dir() else {}
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for name in set(records) | set(re.findall(r"^(il\d+)\b", listed, re.M)):
        pid = int(name[2:])
        if pid == os.getpid() or Path(f"/proc/{pid}").exists():
            continue
        record = json.loads(records[name].read_text()) if name in records else {}
        base = Path(record["base"]) if record.get("base") else Path("/nonexistent")
        _teardown(name, base, record.get("cgroup", f"/nonexistent/{name}"))
