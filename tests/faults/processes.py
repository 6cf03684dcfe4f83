"""The processes a fault test starts, kills and brings back.

A Redis server of the test's own on a free port (the machine's Redis on
6379 is left alone), ``tasks-api worker`` processes kept alive by a small
supervisor, and helpers that find and ``kill -9`` a process tree through
``/proc``. Linux only, as the service's own deployment is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import redis
from servers import SECRET, RunningProcess, free_port, wait_for, worker_process


def children(pid: int) -> list[int]:
    """The direct children of ``pid``, from every one of its threads."""
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents before their children."""
    found: list[int] = []
    pending = [pid]
    while pending:
        below = children(pending.pop(0))
        found += below
        pending += below
    return found


def command_name(pid: int) -> str:
    """The short command name of ``pid`` (``comm``), or "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def parent_of(pid: int) -> int:
    """The parent pid of ``pid``, or 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    # The command name in brackets may hold spaces; fields follow the ")".
    return int(stat.rsplit(")", 1)[1].split()[1])


def kill_tree(pid: int) -> list[int]:
    """``kill -9`` a process and everything below it; returns what was killed.

    The parent goes first, so that a supervisor inside the tree (gunicorn's
    master, Dramatiq's) cannot start a replacement for a killed child.
    """
    tree = [pid, *descendants(pid)]
    for member in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
    return tree


class RedisServer:
    """A ``redis-server`` that keeps nothing on disk, on a port of its own.

    ``restart_empty`` kills it with SIGKILL and starts a fresh one on the
    same port: everything it held (queued messages, delayed retries,
    Dramatiq's bookkeeping) is gone, as after a crash of a Redis without
    persistence.
    """

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log_path = self.workdir / f"redis-{self.port}-{self.starts}.log"
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(log_path),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._answers, 15, f"redis-server on port {self.port}")

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)

    def restart_empty(self) -> None:
        self.kill()
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def _answers(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self._process.returncode}")
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    """A fresh Redis for one test, killed when the block ends."""
    server = RedisServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def production_settings(redis_port: int, **extra: str) -> dict[str, str]:
    """The production topology on one machine, with timings made short.

    A running job whose heartbeat is 3 s old counts as orphaned, a queued
    job waiting 2 s counts as lost, and the sweep looks every second, so
    a recovery takes seconds rather than minutes.
    """
    return {
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis_port),
        "WORKER_SECRET": SECRET,
        "JOB_STALE_SECONDS": "3",
        "JOB_REQUEUE_SECONDS": "2",
        "SWEEP_SECONDS": "1",
        "SSE_HEARTBEAT_SECONDS": "1",
        **extra,
    }


class WorkerSupervisor:
    """Keeps one ``tasks-api worker`` running, as a service manager would.

    When Dramatiq loses a worker process it shuts the whole worker down,
    leaving the restart to whatever supervises it (systemd, a container
    runtime); this class plays that part and starts a new worker each time
    the last one has exited.
    """

    def __init__(
        self, data_dir: Path, api_url: str, environ: Mapping[str, str]
    ) -> None:
        self.data_dir = data_dir
        self.api_url = api_url
        self.environ = dict(environ)
        self.workers: list[RunningProcess] = []
        self._stack = contextlib.ExitStack()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="worker-supervisor", daemon=True
        )

    def __enter__(self) -> WorkerSupervisor:
        self._start_one()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join(10)
        with self._lock:
            self._stack.close()

    @property
    def current(self) -> RunningProcess:
        with self._lock:
            return self.workers[-1]

    @property
    def exits(self) -> list[int]:
        """The exit status of every worker that has ended so far."""
        with self._lock:
            return [
                code
                for worker in self.workers
                if (code := worker.process.poll()) is not None
            ]

    def logs(self) -> str:
        with self._lock:
            return "\n".join(worker.log() for worker in self.workers)

    def process_reading_a_page(self) -> int | None:
        """The worker process that has a Tesseract process running, if any."""
        main = self.current.process.pid
        for pid in descendants(main):
            if command_name(pid) == "tesseract":
                parent = parent_of(pid)
                if parent and parent != main:
                    return parent
        return None

    def _start_one(self) -> None:
        with self._lock:
            worker = self._stack.enter_context(
                worker_process(self.data_dir, self.api_url, self.environ)
            )
            self.workers.append(worker)

    def _watch(self) -> None:
        while not self._stopping.wait(0.1):
            if self.current.process.poll() is not None:
                self._start_one()
