"""Twenty users upload 200 scans at once while 500 live streams are open.

    .venv/bin/python -m bench.load [--users 20] [--files 200] [--streams 500]
                                   [--words 60] [--timeout 900]

In one run, on 127.0.0.1 only:

1. draws the scans, one page each (1240 x 900 PNG, ``--words`` words of
   running text, the tests' own generator), and times plain Tesseract on
   them: ``tesseract PAGE stdout`` with ``OMP_THREAD_LIMIT=1``, one
   process per core;
2. starts the service in embedded mode (``tasks-api serve``, one
   gunicorn + gevent process, a temporary DATA_DIR, SQLite, in-process
   jobs, the local summarizer), with MAX_JOBS_IN_FLIGHT and
   MAX_STREAMS_PER_USER raised to fit the load, and signs up the users;
3. lets every user upload its share of the files one after another, all
   users at once, and open 2 or 3 live streams on each job as soon as it
   is accepted (500 streams over 200 jobs); each user then asks for one
   of its unfinished jobs per second until all are final;
4. checks every job with ``GET /jobs/{id}`` and every stream's events,
   stops the service and times plain Tesseract once more.

It prints latency (p50, p99, max) per kind of call and over all, the
throughput, the 5xx answers and failed connections, the jobs not
``succeeded`` (lost), the streams that missed an event or ended
otherwise, the peaks the service's own /metrics showed, and the time
from the first upload to the last job finished (the queue drained)
against plain Tesseract on the same pages (the faster of its two runs,
so that other work on the machine counts against the service, not for
it), and the CPU time each side used, which other work on the machine
disturbs far less than wall time; with the machine's load average. A
stream ends with its job, so fewer than all streams are open at once:
the first jobs finish while the last uploads arrive.

The exit status is 0 when there were no 5xx, no lost job and every
stream told the whole story. Everything stops and the temporary folder
is removed on the way out; ``--timeout`` bounds the load phase.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests
from e2e.client import ApiClient
from e2e.conftest import scan
from servers import RunningProcess, api_server

from bench.load.traffic import Call, Load, LoadUser, Recorder, ServerWatch

KINDS = ("upload", "job status", "stream open")
# 500 threads reading streams need little stack each.
THREAD_STACK_BYTES = 512 * 1024


@dataclass(frozen=True)
class Plan:
    """Which user uploads which file, and how many streams follow it."""

    users: int
    files: int
    streams: int

    def owner(self, number: int) -> int:
        return number % self.users

    def streams_for(self, number: int) -> int:
        base, extra = divmod(self.streams, self.files)
        return base + (1 if number < extra else 0)

    def most_per_user(self, count: Callable[[int], int]) -> int:
        totals = [0] * self.users
        for number in range(self.files):
            totals[self.owner(number)] += count(number)
        return max(totals)


def draw_scans(count: int, words: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for number in range(count):
        data, _ = scan(seed=1000 + number, words=words)
        path = folder / f"scan-{number:03}.png"
        path.write_bytes(data)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class PlainRun:
    """Plain Tesseract on every page: wall time and its processes' CPU."""

    seconds: float
    cpu_seconds: float


def plain_tesseract(pages: list[Path]) -> PlainRun:
    """Plain Tesseract reads every page, one process per core."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def read(page: Path) -> None:
        subprocess.run(
            ["tesseract", str(page), "stdout"],
            env=env,
            capture_output=True,
            check=True,
            timeout=120,
        )

    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(read, pages))
    return PlainRun(time.perf_counter() - started, _children_cpu_seconds() - cpu_before)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sign_up(base_url: str, count: int) -> list[LoadUser]:
    users = []
    for _ in range(count):
        client = ApiClient(base_url).sign_up()
        users.append(LoadUser(base_url, client.token, client.new_task()))
    return users


def run_load(
    server: RunningProcess, plan: Plan, pages: list[Path], timeout: float
) -> tuple[Load, Recorder, ServerWatch, float, dict[str, dict]]:
    """Drive the load; return what it saw and every job as stored."""
    users = sign_up(server.url, plan.users)
    shares: list[list[tuple[str, bytes, int]]] = [[] for _ in users]
    for number, page in enumerate(pages):
        shares[plan.owner(number)].append(
            (page.name, page.read_bytes(), plan.streams_for(number))
        )

    recorder = Recorder()
    load = Load(recorder, deadline=time.monotonic() + timeout)
    watch = ServerWatch(server.url)
    start = threading.Barrier(len(users) + 1)
    threads = [
        threading.Thread(target=load.run_user, args=(user, share, start), daemon=True)
        for user, share in zip(users, shares, strict=True)
    ]
    for thread in threads:
        thread.start()
    watch.start()

    start.wait()
    started = time.perf_counter()
    cpu_before = (service_cpu_seconds(server.process.pid), own_cpu_seconds())
    for thread in threads:
        thread.join(max(0.0, load.deadline - time.monotonic()))
    load.wait_for_streams()
    elapsed = time.perf_counter() - started
    cpu_after = (service_cpu_seconds(server.process.pid), own_cpu_seconds())
    load.cpu_seconds = (
        cpu_after[0][0] - cpu_before[0][0],
        cpu_after[0][1] - cpu_before[0][1],
        cpu_after[1] - cpu_before[1],
    )
    watch.stop()

    jobs = {}
    for user in users:
        for job_id in user.job_ids:
            answer = requests.get(
                f"{server.url}/api/v1/jobs/{job_id}", headers=user.headers, timeout=30
            )
            jobs[job_id] = answer.json() if answer.ok else {"status": "missing"}
    return load, recorder, watch, elapsed, jobs


def service_cpu_seconds(master_pid: int) -> tuple[float, float]:
    """CPU time of gunicorn's master and workers, and of the Tesseract
    processes they have waited for (a page being read is not counted)."""
    pids = [master_pid]
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    ticks = os.sysconf("SC_CLK_TCK")
    own = waited = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        # Fields after the command name, which may hold spaces: the state,
        # then utime, stime, cutime and cstime as the 12th to 15th.
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        own += (utime + stime) / ticks
        waited += (cutime + cstime) / ticks
    return own, waited


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ranked = sorted(values)
    rank = max(1, round(share * len(ranked) + 0.4999))
    return ranked[min(rank, len(ranked)) - 1]


def latency_table(calls: list[Call]) -> list[str]:
    header = (
        f"{'API calls':<14}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'5xx':>6}{'other':>7}{'no answer':>11}"
    )
    lines = [header, "-" * len(header)]
    for kind in (*KINDS, "all"):
        chosen = [c for c in calls if kind in ("all", c.kind)]
        ms = [c.seconds * 1000 for c in chosen]
        server_errors = sum(c.status >= 500 for c in chosen)
        other = sum(0 < c.status < 500 and c.status >= 300 for c in chosen)
        lost = sum(c.status == 0 for c in chosen)
        lines.append(
            f"{kind:<14}{len(chosen):>7}{percentile(ms, 0.5):>9.1f}"
            f"{percentile(ms, 0.99):>9.1f}{max(ms, default=0):>9.1f}"
            f"{server_errors:>6}{other:>7}{lost:>11}"
        )
    return lines


def when(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp).timestamp() if stamp else None


def report(
    args: argparse.Namespace,
    plain_runs: tuple[PlainRun, PlainRun],
    load: Load,
    recorder: Recorder,
    watch: ServerWatch,
    elapsed: float,
    jobs: dict[str, dict],
) -> bool:
    """Print the results; True when every target was met."""
    plain = min(run.seconds for run in plain_runs)
    plain_cpu = min(run.cpu_seconds for run in plain_runs)
    calls = recorder.calls
    accepted = len(jobs)
    succeeded = sum(job.get("status") == "succeeded" for job in jobs.values())
    finished = [when(job.get("finished_at")) for job in jobs.values()]
    last_done = max((t for t in finished if t is not None), default=None)
    first_up = load.first_upload_at or 0.0
    upload_phase = (load.last_upload_at or first_up) - first_up
    drain = (last_done - first_up) if last_done else float("nan")
    after_uploads = (last_done - (load.last_upload_at or first_up)) if last_done else 0
    server_errors = sum(c.status >= 500 for c in calls)
    no_answer = sum(c.status == 0 for c in calls)

    streams = load.streams
    told_all = [s for s in streams if s.consistent and s.final == "succeeded"]
    broken = [s for s in streams if not s.consistent]
    unfinished = [s for s in streams if s.final != "succeeded"]
    stored = {
        status: int(watch.last.get(f"tasks_api_jobs{{status={status}}}", -1))
        for status in ("queued", "running", "succeeded", "failed")
    }

    print()
    print(
        f"bench.load: {args.users} users, {args.files} one-page scans "
        f"(1240x900 PNG, {args.words} words), {args.streams} live streams; "
        f"embedded service, 1 gunicorn+gevent process, {os.cpu_count()} cores"
    )
    print()
    for line in latency_table(calls):
        print(line)
    print()
    print(
        f"uploads      {accepted}/{args.files} accepted in {upload_phase:.1f} s "
        f"({accepted / upload_phase if upload_phase else 0:.1f}/s)"
    )
    print(
        f"API calls    {len(calls)} in {elapsed:.1f} s ({len(calls) / elapsed:.1f}/s)"
    )
    print(f"5xx          {server_errors} (target 0); {no_answer} calls got no answer")
    print(
        f"jobs lost    {accepted - succeeded} (target 0): {succeeded} of "
        f"{accepted} succeeded, checked with GET /jobs/{{id}}"
    )
    print(
        f"streams      {len(streams)} opened, peak {watch.peak_streams:.0f} open "
        f"at once (/metrics); {len(told_all)} saw every event and 'succeeded', "
        f"{len(broken)} missed or repeated an event, "
        f"{len(unfinished)} ended otherwise"
    )
    print(
        f"/metrics     at the end: jobs {stored} (with the warm-up's); "
        f"peak queue depth "
        f"{watch.peak_depth:.0f}"
    )
    print(
        f"drain        {drain:.1f} s from the first upload to the last job "
        f"finished ({args.files / drain:.2f} pages/s); {after_uploads:.1f} s "
        "after the last upload"
    )
    print(
        f"plain        {plain:.1f} s for the same pages with plain tesseract, "
        f"{os.cpu_count()} processes ({args.files / plain:.2f} pages/s): the "
        f"faster of {plain_runs[0].seconds:.1f} s before the load and "
        f"{plain_runs[1].seconds:.1f} s after"
    )
    print(f"ratio        service drain / plain tesseract: {drain / plain:.2f}x")
    api_cpu, tesseract_cpu, generator_cpu = load.cpu_seconds
    print(
        f"CPU          {api_cpu:.0f} s in the service's process, "
        f"{tesseract_cpu:.0f} s in its Tesseract processes, "
        f"{generator_cpu:.0f} s in this load generator, of "
        f"{(os.cpu_count() or 1) * elapsed:.0f} core-seconds in the run; "
        f"plain tesseract {plain_cpu:.0f} s: service / plain "
        f"{(api_cpu + tesseract_cpu) / plain_cpu:.2f}x"
    )
    return (
        server_errors == 0
        and no_answer == 0
        and accepted == args.files
        and succeeded == accepted
        and len(told_all) == len(streams) == args.streams
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--words", type=int, default=60, help="words per page")
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds for the load phase"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the service's LOG_LEVEL; INFO (the default) logs every request",
    )
    args = parser.parse_args()
    if args.files < args.users or args.streams < 0:
        parser.error("give at least one file per user, and no negative streams")
    return args


def main() -> int:
    args = parse_args()
    threading.stack_size(THREAD_STACK_BYTES)
    plan = Plan(args.users, args.files, args.streams)
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    settings = {
        "MAX_JOBS_IN_FLIGHT": str(plan.most_per_user(lambda _: 1) + 1),
        "MAX_STREAMS_PER_USER": str(plan.most_per_user(plan.streams_for) + 5),
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": args.log_level,
    }
    met = False
    try:
        print(f"drawing {args.files} scans ...", flush=True)
        pages = draw_scans(args.files, args.words, workdir / "pages")
        print("timing plain tesseract on them ...", flush=True)
        plain_before = plain_tesseract(pages)
        load_before = os.getloadavg()[0]

        with api_server(workdir / "data", settings) as server:
            print(
                f"{args.users} users upload {args.files} scans with "
                f"{args.streams} streams open ...",
                flush=True,
            )
            load, recorder, watch, elapsed, jobs = run_load(
                server, plan, pages, args.timeout
            )
            load_after = os.getloadavg()[0]
            log_tail = "\n".join(server.log().splitlines()[-30:])

        print("timing plain tesseract again ...", flush=True)
        plain_after = plain_tesseract(pages)
        met = report(
            args, (plain_before, plain_after), load, recorder, watch, elapsed, jobs
        )
        print(
            f"machine      load average {load_before:.1f} before the load, "
            f"{load_after:.1f} after it, on {os.cpu_count()} cores: the times "
            "compare only on an otherwise idle machine"
        )
        if not met:
            print("\nlast lines of the service's log:")
            print(log_tail)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\ntargets {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
