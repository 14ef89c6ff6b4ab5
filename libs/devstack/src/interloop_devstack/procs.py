"""Child processes that never outlive the dev stack (PR_SET_PDEATHSIG) and stop as a group."""

from __future__ import annotations

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """A one-line, actionable reason the stack cannot start."""


# util-linux's setpriv sets the parent-death signal and execs the command, so no Python code runs in the
# child between fork and exec: a preexec_fn there (a dlopen of libc, in a process whose gRPC and asyncio
# threads may hold the allocator's locks) crashed a PostgreSQL restart with SIGSEGV once in a full run.
_SETPRIV = shutil.which("setpriv")
try:  # the fallback's libc, loaded here and not in the forked child
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:  # only without setpriv: runs in the child between fork and exec
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(
    args: list[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")  # noqa: SIM115 - owned by the child for its lifetime
    if _SETPRIV is not None:
        args, preexec = [_SETPRIV, "--pdeathsig", "KILL", "--", *args], None
    else:
        preexec = _die_with_parent
    return subprocess.Popen(
        args,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        user=user,
        cwd=cwd,
        start_new_session=True,  # its own process group, stopped as one (os.setsid in the child, in C)
        preexec_fn=preexec,
    )


def stop(proc: subprocess.Popen | None, *, timeout: float = 15.0, sig: int = signal.SIGTERM) -> None:
    """Signal the child's process group, wait, then SIGKILL what is left."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


def kill9(proc: subprocess.Popen) -> None:
    """SIGKILL the whole process group at once: a crash, not a shutdown."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def require_free(port: int, what: str, env_var: str) -> None:
    if not port_free(port):
        raise StackError(
            f"port {port} for {what} is busy: stop whatever uses it or set {env_var} to a free port"
        )


_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A port free now, for a server started a moment later. Taken below the kernel's ephemeral range,
    so the outgoing connections every client opens meanwhile cannot grab it, and never handed out twice
    by this process."""
    lo, _ = _ephemeral_range()
    candidates = list(range(max(1024, lo - 12000), lo)) if lo > 13024 else []
    random.shuffle(candidates)
    for port in candidates[:200]:
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # a small or odd range: the kernel picks
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(
    port: int, *, proc: subprocess.Popen, log: Path, timeout: float, what: str, host: str = "127.0.0.1"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
            raise StackError(
                f"{what} exited with status {proc.returncode}; see {log}: {' | '.join(tail)[-400:]}"
            )
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise StackError(f"{what} did not open port {port} within {timeout:.0f}s; see {log}")
