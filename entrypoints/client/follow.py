"""Following a job to its end, and the exit code that end means."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from typing import IO, Any

import requests

from tasks_api.entrypoints.client.api import ApiClient, Event
from tasks_api.entrypoints.client.errors import (
    EXIT_JOB_UNSUCCESSFUL,
    EXIT_OK,
    ApiError,
    ClientError,
)
from tasks_api.entrypoints.client.output import print_json, say, wants_json

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
MAX_STREAM_FAILURES = 5


class ProgressBar:
    """A one-line progress bar on a terminal; plain lines elsewhere.

    On a terminal the line is redrawn in place. Into a file or a pipe it
    writes a line only when what it says changes, so a log stays short.
    """

    WIDTH = 24

    def __init__(self, out: IO[str], label: str) -> None:
        self.out = out
        self.label = label
        self.redraw = out.isatty()
        self.last = ""

    def show(self, percent: int, words: str) -> None:
        percent = max(0, min(100, percent))
        filled = round(self.WIDTH * percent / 100)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"{self.label} [{bar}] {percent:3d}% {words}"
        if line == self.last:
            return
        if self.redraw:
            padding = " " * max(0, len(self.last) - len(line))
            self.out.write(f"\r{line}{padding}")
        else:
            self.out.write(line + "\n")
        self.out.flush()
        self.last = line

    def close(self) -> None:
        if self.redraw and self.last:
            self.out.write("\n")
            self.out.flush()


def stage_words(job: dict[str, Any]) -> str:
    """What a job is doing, in a few words."""
    status = job.get("status")
    if status != "running":
        return str(status)
    if job.get("cancel_requested"):
        return "stopping"
    stage = job.get("stage")
    if stage == "ocr" and job.get("pages_total"):
        return f"ocr, page {job.get('pages_done', 0)} of {job['pages_total']} done"
    return str(stage or "running")


def follow_job(
    client: ApiClient, job_id: str, bar: ProgressBar | None
) -> dict[str, Any]:
    """Follow a job's live stream to its end; the finished job, text included.

    A dropped connection is resumed from the last event seen
    (``Last-Event-ID``); after ``MAX_STREAM_FAILURES`` failures in a row
    without an event in between, it gives up with a ``ClientError``.
    """
    job: dict[str, Any] = {"status": "queued", "progress": 0}
    seen = 0
    failures = 0
    while job["status"] not in FINISHED:
        try:
            with contextlib.closing(client.events(job_id, seen)) as events:
                for event in events:
                    seen = event.id or seen
                    failures = 0
                    _apply(job, event)
                    if bar is not None:
                        bar.show(int(job.get("progress") or 0), stage_words(job))
                    if event.type == "status" and job["status"] in FINISHED:
                        break
                else:
                    raise ConnectionError("the stream ended before the job did")
        except ApiError:
            raise
        except (ClientError, ConnectionError, requests.RequestException):
            failures += 1
            if failures > MAX_STREAM_FAILURES:
                raise ClientError(
                    f"lost the live stream of job {job_id} and could not "
                    f"resume it; try `tasks-api follow {job_id}` later"
                ) from None
            time.sleep(min(2 ** (failures - 1), 10))

    if bar is not None:
        bar.close()
    return client.call("GET", f"/jobs/{job_id}")


def watch_job(
    client: ApiClient, job_id: str, label: str, quiet: bool
) -> dict[str, Any]:
    """Follow a job with a progress bar on stderr, unless ``quiet``.

    On Ctrl-C it stops following (the job keeps running on the server),
    says how to follow it again and lets the interrupt through.
    """
    bar = None if quiet else ProgressBar(sys.stderr, label)
    try:
        return follow_job(client, job_id, bar)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        say(
            f"stopped following; job {job_id} goes on. "
            f"Follow it again with: tasks-api follow {job_id}"
        )
        raise


def exit_code_of(job: dict[str, Any]) -> int:
    """1 for a job that failed or was cancelled, else 0."""
    if job["status"] == "succeeded":
        return EXIT_OK
    return EXIT_JOB_UNSUCCESSFUL if job["status"] in FINISHED else EXIT_OK


def report_finished(job: dict[str, Any], args: argparse.Namespace) -> int:
    """Print the job as the options ask; the exit code its status means."""
    if wants_json(args):
        print_json(job)
    elif job["status"] == "succeeded":
        if getattr(args, "text", False):
            print(job.get("text") or "")
            print()
        print(job.get("summary") or "(no summary)")
    elif job["status"] == "failed":
        error = job.get("error") or {}
        say(f"job {job['id']} failed: {error.get('message', 'no reason given')}")
    elif job["status"] == "cancelled":
        say(f"job {job['id']} was cancelled")
    return exit_code_of(job)


def _apply(job: dict[str, Any], event: Event) -> None:
    if event.type == "progress":
        job.update(
            stage=event.data.get("stage"),
            pages_done=event.data.get("pages_done"),
            pages_total=event.data.get("pages_total"),
            progress=event.data.get("percent", job.get("progress")),
        )
    elif event.type == "status":
        job.update(event.data)
