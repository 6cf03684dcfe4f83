"""What the transport tests share: a job world, stand-ins, a threaded server."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from tasks_api.adapters.events.inprocess import InProcessEventBus
from tasks_api.adapters.files.local import LocalFileStore
from tasks_api.adapters.gateway.signing import MemoryReplayGuard
from tasks_api.adapters.storage.memory import InMemoryStorage
from tasks_api.domain.jobs import Job
from tasks_api.entrypoints.http import internal
from tasks_api.entrypoints.http.common import CONTAINER_KEY
from tasks_api.entrypoints.http.errors import register_error_handlers
from tasks_api.entrypoints.settings import Settings
from tasks_api.ports.files import FileStore
from tasks_api.ports.llm import Summarizer
from tasks_api.ports.queue import JobQueue
from tasks_api.usecases.jobs import JobEvents, JobLifecycle

WORKER_SECRET = "transport-tests-worker-secret-0123456789abcdef"
REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379


class ScriptedSummarizer(Summarizer):
    """Answers the first sentence; raises ``fail_with`` once if it is set."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.fail_with: Exception | None = None

    def summarize(self, text: str) -> str:
        self.texts.append(text)
        error, self.fail_with = self.fail_with, None
        if error is not None:
            raise error
        return text.split(".")[0] + "."


class SentJobs(JobQueue):
    """Keeps what the lifecycle sends back to the queue."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    def enqueue(self, job_id: str, delay_seconds: float = 0) -> None:
        self.sent.append((job_id, delay_seconds))


class RedirectingFileStore(LocalFileStore):
    """A local store that hands out a URL elsewhere, as Cloudinary does."""

    def __init__(self, root: Path, url: str) -> None:
        super().__init__(root)
        self.url = url

    def download_url(self, key: str, filename: str) -> str | None:
        return self.url


class JobWorld:
    """The API side of jobs: real lifecycle over in-memory storage."""

    def __init__(self, tmp_path: Path, queue: JobQueue | None = None) -> None:
        self.storage = InMemoryStorage()
        self.bus = InProcessEventBus()
        self.summarizer = ScriptedSummarizer()
        self.queue = queue or SentJobs()
        self.files: FileStore = LocalFileStore(tmp_path / "files")
        self.lifecycle = JobLifecycle(
            self.storage, JobEvents(self.storage, self.bus), self.summarizer, self.queue
        )

    def add_job(self, content: bytes = b"Hello there. More text.") -> Job:
        job = Job(
            owner_id="owner",
            task_id="task",
            attachment_id="attachment",
            storage_key="owner/attachment",
            media_type="text/plain",
            language="eng",
        )
        job.storage_key = f"owner/{job.id}"
        self.files.save(job.storage_key, io.BytesIO(content), "text/plain")
        self.storage.jobs.add(job)
        return job

    def running_job(self) -> str:
        """A job claimed by a worker, as one being summarized is."""
        job = self.add_job()
        assert self.lifecycle.claim(job.id) is not None
        return job.id

    def job(self, job_id: str) -> Job:
        job = self.storage.jobs.get(job_id)
        assert job is not None
        return job


class StandInContainer:
    """The three providers the internal routes use, and nothing else."""

    def __init__(
        self, world: JobWorld, worker_secret: str | None, **settings: Any
    ) -> None:
        self._settings = Settings(worker_secret=worker_secret, **settings)
        self._world = world
        self._replay_guard = MemoryReplayGuard()

    def settings(self) -> Settings:
        return self._settings

    def job_lifecycle(self) -> JobLifecycle:
        return self._world.lifecycle

    def file_store(self) -> FileStore:
        return self._world.files

    def replay_guard(self) -> MemoryReplayGuard:
        return self._replay_guard


def internal_app(
    world: JobWorld, worker_secret: str | None = WORKER_SECRET, **settings: Any
) -> Flask:
    app = Flask("internal-routes-test")
    app.extensions[CONTAINER_KEY] = StandInContainer(world, worker_secret, **settings)
    app.register_blueprint(internal.blp)
    register_error_handlers(app)
    return app


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``stop`` mimics a server going down.

    Stopping closes the listening socket and every forwarded connection, so
    clients see their connections drop and new ones refused, as when Redis
    restarts; ``start`` listens on the same port again.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = closed_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pipe, args=(source, sink), daemon=True
                ).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
