"""Real processes for end-to-end tests: the API under gunicorn, workers.

Everything listens on 127.0.0.1 on a free port and is stopped by the
context manager, even when the test fails.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

TASKS_API = str(Path(sys.executable).with_name("tasks-api"))
SECRET = "end-to-end-secret-long-enough-for-hs256-and-workers"


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, every: float = 0.1
) -> object:
    """Poll ``condition`` until it returns something true; fail after ``timeout``.

    The timeout only ends a run that would otherwise hang; it is generous
    on purpose and says nothing about how fast anything should be.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def base_environment(
    data_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MONGO_", "REDIS_", "CLOUDINARY_", "OPENAI_", "WORKER_"))
    }
    environ.update(
        DATA_DIR=str(data_dir),
        JWT_SECRET=SECRET,
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    environ.update(extra or {})
    return environ


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def api_server(
    data_dir: Path, extra: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[RunningProcess]:
    """``tasks-api serve`` on 127.0.0.1, ready when /healthz answers."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"api-{port}.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [TASKS_API, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=base_environment(data_dir, extra),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
        )
    running = RunningProcess(process, log_path, f"http://127.0.0.1:{port}")
    try:
        _wait_until_healthy(running)
        yield running
    finally:
        _stop(process)


@contextlib.contextmanager
def worker_process(
    data_dir: Path, api_url: str, extra: Mapping[str, str] | None = None
) -> Iterator[RunningProcess]:
    """``tasks-api worker`` reporting to ``api_url``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"worker-{time.monotonic_ns()}.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [TASKS_API, "worker", "--processes", "1", "--threads", "1"],
            env=base_environment(data_dir, {"API_URL": api_url, **(extra or {})}),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,
        )
    try:
        yield RunningProcess(process, log_path)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        _stop(process)


def _wait_until_healthy(running: RunningProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"the API exited early:\n{running.log()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{running.url}/healthz", timeout=1).ok:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the API did not become healthy:\n{running.log()}")
