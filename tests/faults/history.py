"""What a job went through: its stored events, its streams, and checks on both.

The events in storage are the truth (they are stored before they are
published); a stream tells the truth when it shows exactly those events,
in order, each once, whatever was killed or restarted meanwhile.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from sse_client import FINAL, open_stream

from tasks_api.adapters.storage.sqlite import SqliteStorage


@dataclass(frozen=True)
class Seen:
    """One event as a client or storage has it: number, type, data.

    ``at`` is when it was stored, known only for events read from storage
    and left out of comparisons.
    """

    id: int
    type: str
    data: dict[str, Any]
    at: datetime | None = field(default=None, compare=False)

    @property
    def is_final(self) -> bool:
        return self.type == "status" and self.data.get("status") in FINAL


class StoredHistory:
    """Reads the events the API processes stored, from their SQLite file."""

    def __init__(self, data_dir: Path) -> None:
        self._storage = SqliteStorage(data_dir / "tasks.sqlite3")

    def events(self, job_id: str) -> list[Seen]:
        return [
            Seen(event.seq, event.type.value, dict(event.data), event.created_at)
            for event in self._storage.job_events.list(job_id, 0)
        ]


def check_history(events: list[Seen]) -> None:
    """Assert that one job's events tell one coherent story.

    Numbered 1..n without gaps; queued first; each new start counts one
    attempt more; pages read in order within an attempt; one final status,
    last; a success carries exactly one summary, just before it.
    """
    assert [e.id for e in events] == list(range(1, len(events) + 1)), events
    assert events[0].type == "status", events
    assert events[0].data["status"] == "queued", events

    finals = [e for e in events if e.is_final]
    assert finals == [events[-1]], f"not exactly one final status, last: {events}"

    starts = [e.data["attempts"] for e in events if _is_start(e)]
    assert starts == list(range(1, len(starts) + 1)), f"attempts skip: {events}"

    page = 0
    for event in events:
        if _is_start(event):
            page = 0
        elif event.type == "progress" and event.data["stage"] == "ocr":
            assert event.data["pages_done"] > page, f"pages out of order: {events}"
            page = event.data["pages_done"]

    summaries = [e for e in events if e.type == "summary_ready"]
    if events[-1].data["status"] == "succeeded":
        assert summaries == [events[-2]], f"not one summary before success: {events}"
    else:
        assert not summaries, events


def _is_start(event: Seen) -> bool:
    return event.type == "status" and event.data.get("status") == "running"


@dataclass
class StreamFollower:
    """A client following one job's live stream until its final status.

    Like a browser's EventSource it reconnects whenever the stream breaks
    or ends early, sending the last id it saw as ``Last-Event-ID``, and
    keeps trying while the API is unreachable. Run it with ``start``.
    """

    url: str
    token: str
    job_id: str
    give_up_after: float = 120.0
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    def start(self) -> StreamFollower:
        self._thread = threading.Thread(
            target=self._run, name=f"follow-{self.job_id}", daemon=True
        )
        self._thread.start()
        return self

    def join(self, timeout: float) -> list[Seen]:
        """Wait for the final status; the events seen, or an AssertionError."""
        assert self._thread is not None
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"stream of {self.job_id} still open: {self.seen}")
        if self.error is not None:
            raise AssertionError(f"stream of {self.job_id} failed") from self.error
        return self.seen

    @property
    def finished(self) -> bool:
        return bool(self.seen) and self.seen[-1].is_final

    def _run(self) -> None:
        deadline = time.monotonic() + self.give_up_after
        try:
            while not self.finished and time.monotonic() < deadline:
                self._read_once()
        except BaseException as error:  # handed to the test by join()
            self.error = error

    def _read_once(self) -> None:
        last = self.seen[-1].id if self.seen else None
        try:
            stream = open_stream(
                f"{self.url}/api/v1/jobs/{self.job_id}/live",
                self.token,
                last_event_id=last,
                timeout=10,
            )
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)  # the API is down; try again, as EventSource does
            return

        self.connections += 1
        try:
            if stream.response.status_code == 204:
                raise AssertionError(f"204 before the final status: {self.seen}")
            assert stream.response.status_code == 200, stream.response.text
            for event in stream.events():
                assert event.id is not None, event
                self.seen.append(Seen(event.id, event.type, event.data))
                if self.finished:
                    return
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            pass  # the API went away mid-stream; reconnect
        finally:
            stream.close()
