"""Open N live streams on one API process and measure what they cost.

    .venv/bin/python -m bench.sse [--streams 10000] [--small 1000]
                                  [--jobs 1] [--rounds 10]
                                  [--probe-seconds SECONDS]

Starts ``tasks-api serve`` on 127.0.0.1 in the production event mode
(REDIS_HOST: one Redis pub/sub connection per process; gunicorn + gevent,
one worker), seeds a user with queued jobs, then from this process:

1. times plain Redis publish-to-subscriber delivery (a bare redis-py
   subscriber, same payload size) as the yardstick;
2. opens ``--small`` streams, fans ``--rounds`` progress events out to
   them, stored and published as ``JobEvents.emit`` does, and times each
   delivery from publish to arrival;
3. opens the rest up to ``--streams`` and does the same for all of them;
4. times ordinary requests (``GET /api/v1/projects``) from a separate
   process while every stream stays open, over twice the heartbeat plus
   5 s, so every stream's next heartbeat falls inside the window;

and reads the gunicorn worker's resident memory and CPU time along the
way. It prints a table of the figures against the targets of issue 4,
stops everything it started (also on Ctrl-C or TERM) and deletes its
files. bench/README.md says how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.sse.client import FanoutRecorder, SseStream, open_streams, stream_request
from bench.sse.publish import FanoutPublisher, Owner, plain_redis_latencies
from bench.sse.server import (
    HOST,
    REDIS_PORT,
    ApiProcess,
    cpu_seconds,
    load_average,
    raise_open_file_limit,
    resident_kib,
)

TARGET_STREAMS = 10_000
TARGET_KIB_PER_STREAM = 32
TARGET_EXTRA_P99_MS = 100
TARGET_REQUEST_P99_MS = 100
DEFAULT_HEARTBEAT_SECONDS = 15
ROUND_TIMEOUT_SECONDS = 20.0
PLAIN_MESSAGES = 300


@dataclass
class Figures:
    streams_asked: int = 0
    streams_opened: int = 0
    streams_held: int = 0
    open_failures: Counter[str] = field(default_factory=Counter)
    open_seconds: float = 0.0
    rss_before_kib: int = 0
    rss_small_kib: int = 0
    rss_open_kib: int = 0
    rss_after_fanout_kib: int = 0
    rss_end_kib: int = 0
    small: int = 0
    payload_bytes: int = 0
    plain: list[float] = field(default_factory=list)
    fanout: dict[str, list[float]] = field(default_factory=dict)
    round_seconds: dict[str, list[float]] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)
    requests: list[float] = field(default_factory=list)
    request_due: list[float] = field(default_factory=list)
    request_failures: int = 0
    min_heartbeats: int = 0
    open_cpu_seconds: float = 0.0
    probe_cpu_seconds: float = 0.0
    fanout_cpu_seconds: dict[str, float] = field(default_factory=dict)
    load: list[str] = field(default_factory=list)

    @property
    def kib_per_stream(self) -> float:
        grown = max(self.rss_open_kib, self.rss_after_fanout_kib, self.rss_end_kib)
        return (grown - self.rss_before_kib) / max(self.streams_opened, 1)


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        api: ApiProcess,
        publisher: FanoutPublisher,
        token: str,
        job_ids: list[str],
    ) -> None:
        self.args = args
        self.api = api
        self.publisher = publisher
        self.token = token
        self.job_ids = job_ids
        self.figures = Figures(streams_asked=args.streams)
        self.recorder = FanoutRecorder()
        self.streams: list[SseStream] = []
        self.round_number = 0
        # One thread publishes, off the loop, so reading never waits on it.
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="bench-publish")

    async def run(self) -> Figures:
        figures = self.figures
        worker = self.worker = self.api.worker_pid()
        try:
            await self.warm_up()
            figures.rss_before_kib = resident_kib(worker)

            figures.small = min(self.args.small, self.args.streams)
            await self.open_more(figures.small)
            figures.rss_small_kib = resident_kib(worker)
            await self.fan_out("small", self.args.rounds)

            await self.open_more(self.args.streams - figures.small)
            figures.streams_opened = len(self.streams)
            figures.rss_open_kib = resident_kib(worker)
            await self.fan_out("full", self.args.rounds)
            figures.rss_after_fanout_kib = resident_kib(worker)

            await self.probe_requests()
            figures.rss_end_kib = resident_kib(worker)
            figures.streams_held = sum(
                1
                for stream in self.streams
                if stream.live and stream.seen["full"] == self.args.rounds
            )
            live = [stream.heartbeats for stream in self.streams if stream.live]
            figures.min_heartbeats = min(live, default=0)
        finally:
            for stream in self.streams:
                stream.abort()
            self.executor.shutdown(wait=False, cancel_futures=True)
        return figures

    async def warm_up(self) -> None:
        """One stream opened and closed, so first-use costs are paid."""
        opened, failures = await open_streams(
            self.api.port, self._requests(1), self.recorder.on_event, 1, 30
        )
        if not opened:
            raise RuntimeError(f"the first stream did not open: {dict(failures)}")
        await asyncio.sleep(0.2)
        opened[0].abort()
        await asyncio.sleep(0.5)

    async def open_more(self, count: int) -> None:
        if count <= 0:
            return
        print(f"opening {count} streams ...", flush=True)
        cpu = cpu_seconds(self.worker)
        started = time.monotonic()
        opened, failures = await open_streams(
            self.api.port,
            self._requests(count),
            self.recorder.on_event,
            concurrency=self.args.concurrency,
            timeout=30,
        )
        took = time.monotonic() - started
        self.figures.open_seconds += took
        self.figures.open_cpu_seconds += cpu_seconds(self.worker) - cpu
        self.figures.open_failures.update(failures)
        self.streams.extend(opened)
        print(
            f"  {len(opened)} opened in {took:.1f} s"
            + (f", failures: {dict(failures)}" if failures else ""),
            flush=True,
        )

    async def fan_out(self, phase: str, rounds: int) -> None:
        loop = asyncio.get_running_loop()
        live = sum(1 for stream in self.streams if stream.live)
        print(f"fanning {rounds} events out to {live} streams ...", flush=True)
        durations = self.figures.round_seconds.setdefault(phase, [])
        missed = 0
        cpu = cpu_seconds(self.worker)
        for _ in range(rounds):
            self.round_number += 1
            live = sum(1 for stream in self.streams if stream.live)
            done = self.recorder.expect(phase, self.round_number, live)
            started = time.monotonic()
            size = await loop.run_in_executor(
                self.executor,
                self.publisher.emit_round,
                self.job_ids,
                self.round_number,
            )
            self.figures.payload_bytes = size
            try:
                await asyncio.wait_for(done, ROUND_TIMEOUT_SECONDS)
            except TimeoutError:
                missed += self.recorder.missing()
            durations.append(time.monotonic() - started)
            await asyncio.sleep(self.args.gap)
        self.figures.fanout_cpu_seconds[phase] = cpu_seconds(self.worker) - cpu
        self.figures.fanout[phase] = self.recorder.samples.get(phase, [])
        self.figures.missed[phase] = missed
        print(
            f"  p50 {ms(percentile(self.figures.fanout[phase], 0.5))}, "
            f"p99 {ms(percentile(self.figures.fanout[phase], 0.99))}, "
            f"missed {missed}",
            flush=True,
        )

    async def probe_requests(self) -> None:
        seconds = self.args.probe_seconds
        print(
            f"timing GET /api/v1/projects for {seconds} s with the streams open ...",
            flush=True,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.sse.probe",
            f"{self.api.url}/api/v1/projects?limit=20",
            "--seconds",
            str(seconds),
            "--interval",
            str(self.args.probe_interval),
            env={**os.environ, "BENCH_TOKEN": self.token},
            stdout=asyncio.subprocess.PIPE,
        )
        cpu = cpu_seconds(self.worker)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), seconds + 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        self.figures.probe_cpu_seconds = cpu_seconds(self.worker) - cpu
        result = json.loads(output)
        self.figures.requests = result["latencies"]
        self.figures.request_due = result["due"]
        self.figures.request_failures = result["failures"]
        print(
            f"  p50 {ms(percentile(self.figures.requests, 0.5))}, "
            f"p99 {ms(percentile(self.figures.requests, 0.99))}",
            flush=True,
        )

    def _requests(self, count: int) -> list[bytes]:
        first = len(self.streams)
        return [
            stream_request(
                self.api.port,
                self.job_ids[(first + number) % len(self.job_ids)],
                self.token,
            )
            for number in range(count)
        ]


def seed_owner(base: str) -> tuple[str, Owner]:
    """A user with one project and one task; returns a token and the owner."""
    http = requests.Session()
    account = {"email": "bench-sse@example.com", "password": "bench-password-1"}
    made = http.post(f"{base}/api/v1/auth/register", json={**account, "name": "B"})
    made.raise_for_status()
    login = http.post(f"{base}/api/v1/auth/login", json=account)
    login.raise_for_status()
    token = login.json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"

    project = http.post(f"{base}/api/v1/projects", json={"name": "Bench"})
    project.raise_for_status()
    project_id = project.json()["id"]
    task = http.post(
        f"{base}/api/v1/projects/{project_id}/tasks", json={"title": "Follow me"}
    )
    task.raise_for_status()
    return token, Owner(made.json()["id"], project_id, task.json()["id"])


def print_report(figures: Figures, args: argparse.Namespace, command: str) -> bool:
    plain_p50 = percentile(figures.plain, 0.5)
    plain_p99 = percentile(figures.plain, 0.99)
    small = figures.fanout.get("small", [])
    full = figures.fanout.get("full", [])
    small_p99 = percentile(small, 0.99)
    request_p99 = percentile(figures.requests, 0.99)
    heartbeat = args.heartbeat or DEFAULT_HEARTBEAT_SECONDS

    print()
    print(f"command: {command}")
    if args.extra_env:
        print(f"extra API environment: {args.extra_env}")
    print(
        f"one API process (gunicorn + gevent, 1 worker), events over Redis "
        f"pub/sub, SSE heartbeat {heartbeat} s, {len(args.job_ids)} job(s), "
        f"payload {figures.payload_bytes} bytes, {args.rounds} events per size"
    )
    print(f"1-minute load average at start and end: {' and '.join(figures.load)}")
    print(
        f"streams: {figures.streams_opened} of {figures.streams_asked} opened in "
        f"{figures.open_seconds:.1f} s, worker CPU "
        f"{_per(figures.open_cpu_seconds, figures.streams_opened)} each; "
        f"failures {dict(figures.open_failures) or 0}"
        f"; fewest heartbeats per stream in the request window: "
        f"{figures.min_heartbeats}"
    )
    print(
        "worker RSS: "
        f"before {figures.rss_before_kib / 1024:.1f} MiB, "
        f"{figures.small} open {figures.rss_small_kib / 1024:.1f} MiB, "
        f"{figures.streams_opened} open {figures.rss_open_kib / 1024:.1f} MiB, "
        f"after fan-out {figures.rss_after_fanout_kib / 1024:.1f} MiB, "
        f"at the end {figures.rss_end_kib / 1024:.1f} MiB"
    )
    print(
        f"latency (p50 / p99 / max): plain Redis {ms(plain_p50)} / {ms(plain_p99)}"
        f" / {ms(max(figures.plain, default=math.nan))}"
    )
    for phase, label in (("small", figures.small), ("full", figures.streams_opened)):
        samples = figures.fanout.get(phase, [])
        rounds = figures.round_seconds.get(phase, [])
        print(
            f"  fan-out to {label}: {ms(percentile(samples, 0.5))} / "
            f"{ms(percentile(samples, 0.99))} / "
            f"{ms(max(samples, default=math.nan))} over {len(samples)} "
            f"deliveries, {figures.missed.get(phase, 0)} missed; "
            f"slowest round {ms(max(rounds, default=math.nan))}; worker CPU "
            f"{_per(figures.fanout_cpu_seconds.get(phase, 0.0), len(samples))}"
            " per delivery"
        )
    print(
        f"  GET /api/v1/projects: {ms(percentile(figures.requests, 0.5))} / "
        f"{ms(request_p99)} / {ms(max(figures.requests, default=math.nan))} "
        f"over {len(figures.requests)} requests, "
        f"{figures.request_failures} not 200; worker CPU in that window "
        f"{figures.probe_cpu_seconds:.1f} s"
    )

    stalls = slow_spells(figures.requests, figures.request_due)
    if stalls:
        print(
            "  requests over 100 ms, by when they fell due: "
            + ", ".join(
                f"+{start:.1f} s ({count}, worst {ms(worst)})"
                for start, count, worst in stalls
            )
        )

    rows = [
        (
            "concurrent streams held",
            f"{figures.streams_held}",
            f">= {TARGET_STREAMS}",
            figures.streams_held >= TARGET_STREAMS,
        ),
        (
            "worker RSS per open stream",
            f"{figures.kib_per_stream:.1f} KiB",
            f"<= {TARGET_KIB_PER_STREAM} KiB",
            figures.kib_per_stream <= TARGET_KIB_PER_STREAM,
        ),
        (
            f"p99 delivery at {figures.small} minus plain Redis p99",
            ms(small_p99 - plain_p99),
            f"<= {TARGET_EXTRA_P99_MS} ms",
            (small_p99 - plain_p99) * 1000 <= TARGET_EXTRA_P99_MS
            and figures.missed.get("small", 1) == 0,
        ),
        (
            f"p99 delivery at {figures.streams_opened} (no target)",
            ms(percentile(full, 0.99)),
            "-",
            None,
        ),
        (
            "GET /api/v1/projects p99, streams open",
            ms(request_p99),
            f"< {TARGET_REQUEST_P99_MS} ms",
            request_p99 * 1000 < TARGET_REQUEST_P99_MS
            and figures.request_failures == 0,
        ),
    ]
    print()
    widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
    widths = [
        max(width, len(title)) for width, title in zip(widths, _TITLES, strict=True)
    ]
    header = "  ".join(
        title.ljust(width) for title, width in zip(_TITLES, widths, strict=True)
    )
    print(header + "  result")
    print("-" * (len(header) + 8))
    for name, measured, target, passed in rows:
        verdict = "-" if passed is None else ("pass" if passed else "FAIL")
        print(
            f"{name.ljust(widths[0])}  {measured.ljust(widths[1])}  "
            f"{target.ljust(widths[2])}  {verdict}"
        )
    return all(passed is not False for *_, passed in rows)


_TITLES = ("figure", "measured", "target")


def slow_spells(
    latencies: list[float], due: list[float], slow: float = 0.1
) -> list[tuple[float, int, float]]:
    """Runs of slow requests: (seconds into the window, how many, worst)."""
    spells: list[tuple[float, int, float]] = []
    previous = -2
    for index, (latency, when) in enumerate(zip(latencies, due, strict=True)):
        if latency <= slow:
            continue
        if index == previous + 1 and spells:
            start, count, worst = spells[-1]
            spells[-1] = (start, count + 1, max(worst, latency))
        else:
            spells.append((when, 1, latency))
        previous = index
    return spells


def _per(seconds: float, count: int) -> str:
    return f"{seconds * 1e6 / count:.0f} us" if count else "-"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sse", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--streams", type=int, default=TARGET_STREAMS)
    parser.add_argument(
        "--small", type=int, default=1000, help="streams of the first fan-out"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="jobs the streams are spread over"
    )
    parser.add_argument("--rounds", type=int, default=10, help="events per size")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between events")
    parser.add_argument(
        "--probe-seconds",
        type=float,
        default=None,
        help="request window (default: twice the heartbeat plus 5 s, so that "
        "every stream's next heartbeat falls inside it)",
    )
    parser.add_argument("--probe-interval", type=float, default=0.05)
    parser.add_argument(
        "--concurrency", type=int, default=200, help="handshakes in flight"
    )
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=None,
        help="SSE_HEARTBEAT_SECONDS for the server (default: the service's)",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    parser.add_argument(
        "--time-limit", type=float, default=170.0, help="seconds for the whole run"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder and the API log"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the API process, to try a change; repeatable",
    )
    args = parser.parse_args()
    args.extra_env = dict(item.split("=", 1) for item in args.server_env)
    if args.probe_seconds is None:
        # After an event a stream stays quiet for one heartbeat period and
        # then waits a whole further one before its comment line, so the
        # next heartbeat comes one to two periods after the last event.
        heartbeat = args.heartbeat or DEFAULT_HEARTBEAT_SECONDS
        args.probe_seconds = 2 * heartbeat + 5
    return args


def main() -> int:
    args = parse_args()
    command = " ".join([".venv/bin/python -m bench.sse", *sys.argv[1:]])
    started = time.monotonic()
    raise_open_file_limit(args.streams + 1000)
    # A TERM ends the run as Ctrl-C does, through every finally below.
    # Inside the event loop both cancel the run instead (see _bounded): an
    # exception raised in the middle of a socket callback can leave a
    # connection that asyncio then waits for forever.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    workdir = Path(tempfile.mkdtemp(prefix="bench-sse-"))
    api = ApiProcess(
        workdir,
        max_streams=args.streams + 100,
        log_level=args.log_level,
        heartbeat=args.heartbeat,
        extra_env=args.extra_env,
    )
    load = [load_average()]
    publisher: FanoutPublisher | None = None
    figures: Figures | None = None
    try:
        print(f"starting the API on {api.url} (log: {api.log_path}) ...", flush=True)
        api.start()
        api.wait_until_healthy()
        token, owner = seed_owner(api.url)
        publisher = FanoutPublisher(api.sqlite_path, HOST, REDIS_PORT)
        args.job_ids = [publisher.queued_job(owner) for _ in range(args.jobs)]

        print("timing plain Redis publish -> subscriber ...", flush=True)
        plain, _ = plain_redis_latencies(publisher.client, PLAIN_MESSAGES, 0.005)

        bench = Bench(args, api, publisher, token, args.job_ids)
        remaining = args.time_limit - (time.monotonic() - started)
        try:
            figures = asyncio.run(_bounded(bench.run(), remaining))
        finally:
            signal.signal(signal.SIGTERM, signal.default_int_handler)
        figures.plain = plain
        figures.load = [*load, load_average()]
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\ninterrupted; stopping the API", file=sys.stderr)
        return 130
    except TimeoutError:
        print(
            f"bench.sse: the run took over {args.time_limit:.0f} s; stopped",
            file=sys.stderr,
        )
        return 1
    except (RuntimeError, subprocess.SubprocessError, requests.RequestException):
        print(f"bench.sse failed; the API log ends with:\n{api.log_tail()}")
        raise
    finally:
        api.stop()
        if publisher is not None:
            publisher.close()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    passed = print_report(figures, args, command)
    print(f"\nwhole run {time.monotonic() - started:.0f} s")
    return 0 if passed else 1


async def _bounded(run: Coroutine[Any, Any, Figures], seconds: float) -> Figures:
    """The run, cancelled after ``seconds`` or at the first INT or TERM."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        return await asyncio.wait_for(run, max(seconds, 1.0))
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
