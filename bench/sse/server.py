"""The API process under test: ``tasks-api serve`` on Redis, one worker.

gunicorn's master is the process we start; the streams live in its one
gevent worker, a child, which is the process whose memory we read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tasks_api.entrypoints.settings import Settings

HOST = "127.0.0.1"
REDIS_PORT = 6379
STOP_GRACE_SECONDS = 5.0

# Every setting the service reads, cleared from the child's environment
# so the caller's shell cannot switch on MongoDB, Cloudinary and so on.
SETTING_NAMES = frozenset(
    {field.name.upper() for field in dataclasses.fields(Settings)} | {"CLOUDINARY_URL"}
)


def raise_open_file_limit(needed: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit.

    Returns the new soft limit; raises SystemExit if even the hard limit
    is below ``needed``, since the run would fail half way otherwise.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if target < needed:
        raise SystemExit(
            f"bench.sse: needs {needed} open files, the hard limit is {hard}; "
            f"raise it (ulimit -Hn) or ask for fewer streams."
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _child_setup() -> None:
    """In the child before exec: every open file the hard limit allows."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class ApiProcess:
    """``tasks-api serve`` in production event mode, on a free port.

    Redis pub/sub carries events (REDIS_HOST), so the process holds one
    subscriber connection; storage is SQLite in ``data_dir``, which the
    bench opens too. The stalled-job sweep is pushed out past the run so
    the bench's queued job is never sent to Dramatiq, whose queue on the
    shared Redis would keep the message after we are gone.
    """

    def __init__(
        self,
        workdir: Path,
        max_streams: int,
        log_level: str,
        heartbeat: int | None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.data_dir = workdir / "data"
        self.log_path = workdir / "api.log"
        self.worker_secret = secrets.token_urlsafe(36)
        self._env = self._environment(max_streams, log_level, heartbeat)
        self._env.update(extra_env or {})
        self._workdir = workdir
        self._log_file = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "tasks.sqlite3"

    def start(self) -> None:
        command = [
            _tasks_api_command(),
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]
        self._log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=self._workdir,
            env=self._env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup,  # the bench has no threads yet
        )

    def wait_until_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the API exited:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the API did not answer /healthz:\n{self.log_tail()}")

    def worker_pid(self) -> int:
        """The gunicorn worker: the one child of the master we started."""
        assert self.process is not None
        children = _children_of(self.process.pid)
        if len(children) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {children}")
        return children[0]

    def stop(self) -> None:
        """TERM the process group, then KILL it if it is still there."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 30) -> str:
        if self._log_file is not None:
            self._log_file.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _environment(
        self, max_streams: int, log_level: str, heartbeat: int | None
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
        env.update(
            DATA_DIR=str(self.data_dir),
            JWT_SECRET=secrets.token_urlsafe(48),
            REDIS_HOST=HOST,
            REDIS_PORT=str(REDIS_PORT),
            WORKER_SECRET=self.worker_secret,
            WEB_CONCURRENCY="1",
            MAX_STREAMS_PER_USER=str(max_streams),
            LOG_LEVEL=log_level,
            SWEEP_SECONDS="3600",
            JOB_REQUEUE_SECONDS="86400",
            PYTHONUNBUFFERED="1",
        )
        if heartbeat is not None:
            env["SSE_HEARTBEAT_SECONDS"] = str(heartbeat)
        return env


def resident_kib(pid: int) -> int:
    """VmRSS of a process, in KiB, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def load_average() -> str:
    """The machine's 1-minute load average, for reading the figures."""
    return Path("/proc/loadavg").read_text().split()[0]


def _children_of(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:"):
                if int(line.split()[1]) == parent:
                    children.append(int(entry.name))
                break
    return children


def _tasks_api_command() -> str:
    script = Path(sys.executable).with_name("tasks-api")
    if not script.exists():
        raise SystemExit(f"bench.sse: {script} not found; install the project first")
    return str(script)
