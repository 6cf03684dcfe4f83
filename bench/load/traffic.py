"""The load: users who upload, follow their jobs live and poll them.

Every HTTP call is timed and recorded with its status (0 when no answer
came), so the report can give latency percentiles and count 5xx answers
and failed connections alike. Each user and each stream is a thread:
blocking clients keep the load generator simple, and the threads spend
their time waiting on sockets.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from prometheus_client.parser import text_string_to_metric_families
from sse_client import FINAL, open_stream, until_final

POLL_SECONDS = 1.0
STREAM_READ_TIMEOUT = 60.0
CALL_TIMEOUT = 60.0


@dataclass(frozen=True)
class Call:
    """One HTTP call: what it was, how it was answered, how long it took."""

    kind: str
    status: int
    seconds: float


class Recorder:
    """Calls from every thread, kept in the order they ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[Call] = []

    def add(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def timed(
        self, kind: str, send: Callable[[], requests.Response]
    ) -> requests.Response | None:
        """Send a request, record it, and return the answer (None if none)."""
        started = time.perf_counter()
        try:
            answer = send()
        except requests.RequestException:
            self.add(Call(kind, 0, time.perf_counter() - started))
            return None
        self.add(Call(kind, answer.status_code, time.perf_counter() - started))
        return answer


@dataclass
class StreamOutcome:
    """What one live stream saw, from its opening to its end."""

    job_id: str
    status: int = 0
    event_ids: list[int] = field(default_factory=list)
    final: str | None = None
    error: str | None = None

    @property
    def consistent(self) -> bool:
        """Every event from the first, numbered 1, 2, 3 ... with none missing."""
        return self.event_ids == list(range(1, len(self.event_ids) + 1))


@dataclass
class LoadUser:
    """A signed-up user with a task to attach files to."""

    base_url: str
    token: str
    task_id: str
    job_ids: list[str] = field(default_factory=list)
    finished: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Load:
    """Runs the users and their streams, and keeps what they saw."""

    def __init__(self, recorder: Recorder, deadline: float) -> None:
        self.recorder = recorder
        self.deadline = deadline
        self.streams: list[StreamOutcome] = []
        self._streams_lock = threading.Lock()
        self._stream_threads: list[threading.Thread] = []
        self.first_upload_at: float | None = None
        self.last_upload_at: float | None = None
        self._clock_lock = threading.Lock()
        # CPU seconds of the service's process, of its Tesseract processes
        # and of the load generator, once run.
        self.cpu_seconds = (0.0, 0.0, 0.0)

    def run_user(
        self,
        user: LoadUser,
        files: list[tuple[str, bytes, int]],
        start: threading.Barrier,
    ) -> None:
        """Upload each file, open its streams, then poll until all are done.

        ``files`` holds (name, bytes, streams to open on its job). Polling
        asks for one pending job per POLL_SECONDS, in turn, as a client
        without streams would; a job leaves the round once it is final.
        """
        session = requests.Session()
        session.headers.update(user.headers)
        start.wait()

        for name, data, streams in files:
            self._mark_upload_start()
            answer = self.recorder.timed(
                "upload",
                lambda name=name, data=data: session.post(
                    f"{user.base_url}/api/v1/tasks/{user.task_id}/attachments",
                    files={"file": (name, io.BytesIO(data))},
                    timeout=CALL_TIMEOUT,
                ),
            )
            self._mark_upload_end()
            if answer is None or answer.status_code != 202:
                continue
            job_id = answer.json()["job"]["id"]
            user.job_ids.append(job_id)
            for _ in range(streams):
                self._start_stream(user, job_id)

        pending = list(user.job_ids)
        while pending and time.monotonic() < self.deadline:
            job_id = pending.pop(0)
            answer = self.recorder.timed(
                "job status",
                lambda job_id=job_id: session.get(
                    f"{user.base_url}/api/v1/jobs/{job_id}", timeout=CALL_TIMEOUT
                ),
            )
            status = answer.json().get("status") if _ok(answer) else None
            if status in FINAL:
                user.finished[job_id] = status
            else:
                pending.append(job_id)
            time.sleep(POLL_SECONDS)
        session.close()

    def wait_for_streams(self) -> None:
        """Wait for every stream to end, or for the deadline."""
        for thread in list(self._stream_threads):
            thread.join(max(0.0, self.deadline - time.monotonic()))

    def _start_stream(self, user: LoadUser, job_id: str) -> None:
        outcome = StreamOutcome(job_id)
        with self._streams_lock:
            self.streams.append(outcome)
        thread = threading.Thread(
            target=self._follow, args=(user, outcome), daemon=True
        )
        self._stream_threads.append(thread)
        thread.start()

    def _follow(self, user: LoadUser, outcome: StreamOutcome) -> None:
        url = f"{user.base_url}/api/v1/jobs/{outcome.job_id}/live"
        started = time.perf_counter()
        try:
            stream = open_stream(url, user.token, timeout=STREAM_READ_TIMEOUT)
        except requests.RequestException as error:
            self.recorder.add(Call("stream open", 0, time.perf_counter() - started))
            outcome.error = type(error).__name__
            return
        outcome.status = stream.response.status_code
        self.recorder.add(
            Call("stream open", outcome.status, time.perf_counter() - started)
        )
        if outcome.status != 200:
            stream.close()
            return

        try:
            for event in until_final(stream):
                if event.id is not None:
                    outcome.event_ids.append(event.id)
                if event.type == "status":
                    outcome.final = event.data.get("status")
        except (requests.RequestException, ValueError) as error:
            outcome.error = type(error).__name__
        finally:
            stream.close()

    def _mark_upload_start(self) -> None:
        with self._clock_lock:
            if self.first_upload_at is None:
                self.first_upload_at = time.time()

    def _mark_upload_end(self) -> None:
        with self._clock_lock:
            self.last_upload_at = time.time()


def _ok(answer: requests.Response | None) -> bool:
    return answer is not None and answer.status_code == 200


class ServerWatch:
    """Reads the service's own /metrics every second, keeping the peaks.

    Its calls are not recorded with the users': they are the operator's
    view of the run, not load.
    """

    def __init__(self, base_url: str) -> None:
        self._url = f"{base_url}/metrics"
        self._stop = threading.Event()
        self.peak_streams = 0.0
        self.peak_depth = 0.0
        self.last: dict[str, float] = {}
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.read_once()

    def read_once(self) -> None:
        try:
            text = requests.get(self._url, timeout=10).text
        except requests.RequestException:
            return
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        self.last = samples
        self.peak_streams = max(
            self.peak_streams, samples.get("tasks_api_open_streams{}", 0.0)
        )
        self.peak_depth = max(
            self.peak_depth, samples.get("tasks_api_queue_depth{}", 0.0)
        )

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            self.read_once()
