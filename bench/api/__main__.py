"""Requests per second and latency of the API against a bare Flask endpoint.

    .venv/bin/python -m bench.api [--duration 10] [--threads 2]
                                  [--connections 50] [--log-level INFO]
                                  [--rounds 1] [--fresh-queries]

Starts, on 127.0.0.1 and in one run, the service in embedded mode
(``tasks-api serve`` with a temporary DATA_DIR) and a bare Flask JSON
endpoint under the same gunicorn options (``bench/api/bare.py``). Seeds
one user with 30 projects, one of them with 200 tasks, then drives each
endpoint with wrk for the same time, threads and connections, and prints
requests per second, p50 and p99 latency, and the service's throughput
as a share of the bare endpoint's. For the service it also splits each
request's time: the whole of it (one gunicorn worker is busy for 1/rps
seconds a request) and the part between Flask's first and last request
hooks, read off the service's own latency histogram at /metrics; the
rest is gunicorn, gevent, the request context and the access log line.
``--fresh-queries`` adds the task list with a query string the service
has not seen before on each request, outside the target. Everything it
started is stopped on the way out.

wrk runs on the same machine and takes CPU from the servers; both sides
pay that alike, so the ratio means more than the absolute figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from bench.api.workload import (
    PAGE_SIZE,
    PROJECT_PAGE,
    PROJECT_ROUTE,
    PROJECTS,
    TASK_ROUTE,
    TASKS,
    Post,
    seed,
    task_page,
)

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
LUA_SCRIPT = Path(__file__).with_name("bearer.lua")
TARGET_RATIO = 0.5
WRK_TIMEOUT_SECONDS = 30

# Every setting the service reads; the bench clears them so that the
# caller's environment cannot switch on MongoDB, Redis or more workers.
SETTING_NAMES = (
    "PORT",
    "DATA_DIR",
    "JWT_SECRET",
    "JWT_TTL_SECONDS",
    "MONGO_URL",
    "REDIS_HOST",
    "REDIS_PORT",
    "WORKER_SECRET",
    "API_URL",
    "CLOUDINARY_CLOUD_NAME",
    "CLOUDINARY_API_KEY",
    "CLOUDINARY_API_SECRET",
    "CLOUDINARY_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "WEB_CONCURRENCY",
    "MAX_UPLOAD_BYTES",
)


@dataclass(frozen=True)
class Target:
    """One endpoint driven by wrk."""

    name: str
    url: str
    # Items the page must hold, checked before the runs; None: not a page.
    items: int | None = None
    # The route pattern /metrics labels it with; None: not the service.
    route: str | None = None
    # A query string new to the service on each request (see bearer.lua).
    fresh_queries: bool = False
    # Counted in the verdict against TARGET_RATIO.
    in_target: bool = True


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    # Mean microseconds a request spent in the app's handlers (service only).
    in_app_us: float | None = None


class Server:
    """A server process we started, in its own process group."""

    def __init__(self, name: str, command: list[str], env: dict, cwd: Path) -> None:
        self.name = name
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_healthy(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            # Refused while gunicorn starts, and possibly late while its
            # worker imports the app: over a second on a slow machine.
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(url, timeout=1).ok:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {url}:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop gunicorn's master and its workers: TERM, then KILL if stuck."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def log_tail(self, lines: int = 20) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_env(data_dir: Path, log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env.update(DATA_DIR=str(data_dir), LOG_LEVEL=log_level)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
    )
    return env


def http_post(base: str) -> Post:
    """POST to the service over HTTP, for ``workload.seed``."""
    session = requests.Session()

    def post(path: str, body: dict, headers: Mapping[str, str]) -> dict:
        answer = session.post(f"{base}{path}", json=body, headers=dict(headers))
        answer.raise_for_status()
        return answer.json()

    return post


def check_answers(url: str, token: str, items: int | None) -> None:
    """One request by hand first, so wrk never measures an error page."""
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"})
    answer.raise_for_status()
    if items is not None and len(answer.json()["items"]) != items:
        raise RuntimeError(f"{url} answered {len(answer.json()['items'])} items")


def run_wrk(
    target: Target, token: str, args: argparse.Namespace, seconds: int
) -> Result:
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={seconds}s",
        # Long enough that unfair scheduling under saturation shows in
        # p99 instead of being dropped from the latency figures.
        f"--timeout={WRK_TIMEOUT_SECONDS}s",
        f"--script={LUA_SCRIPT}",
        target.url,
    ]
    env = {**os.environ, "BENCH_TOKEN": token}
    if target.fresh_queries:
        env["BENCH_FRESH_QUERIES"] = "1"
    output = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True
    ).stdout
    line = next(
        line for line in output.splitlines() if line.startswith("BENCH_RESULT ")
    )
    figures = json.loads(line.removeprefix("BENCH_RESULT "))

    errors = sum(
        figures[key] for key in ("connect_errors", "read_errors", "write_errors")
    )
    if errors or figures["bad_status"]:
        raise RuntimeError(f"{target.name}: wrk saw errors: {figures}")
    if figures["timeouts"]:
        print(
            f"warning: {figures['timeouts']} request(s) to {target.name} took over "
            f"{WRK_TIMEOUT_SECONDS} s and are missing from its latency figures",
            flush=True,
        )
    return Result(
        name=target.name,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        requests=figures["requests"],
    )


def time_in_app(base: str, route: str) -> tuple[float, float]:
    """Seconds and requests so far for ``GET route``, from the service's /metrics."""
    totals = {"_sum": 0.0, "_count": 0.0}
    text = requests.get(f"{base}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name != "tasks_api_request_seconds":
            continue
        for sample in family.samples:
            suffix = sample.name.removeprefix(family.name)
            wanted = sample.labels.get("route") == route and suffix in totals
            if wanted and sample.labels.get("method") == "GET":
                totals[suffix] += sample.value
    return totals["_sum"], totals["_count"]


def median_run(results: list[Result]) -> Result:
    """The run with the median throughput (the lower one of an even count)."""
    ranked = sorted(results, key=lambda result: result.rps)
    return ranked[(len(ranked) - 1) // 2]


def print_table(results: list[Result], bare: Result, args: argparse.Namespace) -> None:
    print()
    print(
        f"wrk: {args.threads} threads, {args.connections} connections, "
        f"{args.duration} s per endpoint per round, {args.rounds} round(s), "
        f"median round shown; {args.warmup} s of warm-up; "
        f"gunicorn + gevent, 1 worker; service LOG_LEVEL={args.log_level}"
    )
    width = max(len(result.name) for result in results)
    header = (
        f"{'endpoint':<{width}} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'vs bare':>7} {'us/req':>7} {'in app':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        ratio = result.rps / bare.rps
        in_app = "-" if result.in_app_us is None else f"{result.in_app_us:.0f}"
        print(
            f"{result.name:<{width}} {result.rps:>7.0f} {result.p50_ms:>7.2f} "
            f"{result.p99_ms:>7.2f} {ratio:>7.2f} {1e6 / result.rps:>7.0f} "
            f"{in_app:>7}"
        )
    print()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds each")
    parser.add_argument("--warmup", type=int, default=2, help="seconds each")
    parser.add_argument(
        "--rounds", type=int, default=1, help="passes over all endpoints"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the service's LOG_LEVEL; INFO (the default) logs every request",
    )
    parser.add_argument(
        "--fresh-queries",
        action="store_true",
        help="also drive the task list with a query string new each request, "
        "past the service's memo of parsed query strings (not in the target)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("bench.api: wrk not found; apt-get install wrk", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = server_env(workdir / "data", args.log_level)
    api_port, bare_port = free_port(), free_port()
    servers: list[Server] = []
    try:
        servers.append(
            Server(
                "service",
                [
                    sys.executable,
                    "-m",
                    "tasks_api.entrypoints.cli",
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(api_port),
                ],
                env,
                workdir,
            )
        )
        servers.append(
            Server(
                "bare",
                [sys.executable, "-m", "bench.api.bare", "--port", str(bare_port)],
                env,
                workdir,
            )
        )
        api = f"http://{HOST}:{api_port}"
        bare_base = f"http://{HOST}:{bare_port}"
        servers[0].wait_until_healthy(f"{api}/healthz")
        servers[1].wait_until_healthy(f"{bare_base}/bare")

        print(f"seeding {PROJECTS} projects and {TASKS} tasks ...", flush=True)
        token, busy = seed(http_post(api))
        targets = [
            Target("bare Flask JSON (GET /bare)", f"{bare_base}/bare"),
            Target(
                f"GET {PROJECT_PAGE}", f"{api}{PROJECT_PAGE}", PAGE_SIZE, PROJECT_ROUTE
            ),
            Target(
                f"GET {task_page('{id}')}",
                f"{api}{task_page(busy)}",
                PAGE_SIZE,
                TASK_ROUTE,
            ),
        ]
        if args.fresh_queries:
            # Outside the target: the task list is one filter asked
            # again and again, as a client polling it asks.
            targets.append(
                Target(
                    "  the same, &_=<a random number each request>",
                    f"{api}{task_page(busy)}",
                    PAGE_SIZE,
                    TASK_ROUTE,
                    fresh_queries=True,
                    in_target=False,
                )
            )

        for target in targets:
            # A fresh query's extra parameter must leave the page as it is.
            suffix = "&_=1" if target.fresh_queries else ""
            check_answers(target.url + suffix, token, target.items)
            if args.warmup:
                run_wrk(target, token, args, args.warmup)

        # Rounds go through every endpoint in turn, so a burst of load
        # from elsewhere on the machine falls on all of them alike.
        runs: dict[str, list[Result]] = {target.name: [] for target in targets}
        for round_number in range(1, args.rounds + 1):
            for target in targets:
                print(f"round {round_number}: {target.name.strip()} ...", flush=True)
                route = target.route
                before = time_in_app(api, route) if route else None
                result = run_wrk(target, token, args, args.duration)
                if route and before is not None:
                    seconds, count = time_in_app(api, route)
                    in_app_us = (seconds - before[0]) / (count - before[1]) * 1e6
                    result = replace(result, in_app_us=in_app_us)
                runs[target.name].append(result)
        results = [median_run(runs[target.name]) for target in targets]
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print_table(results, results[0], args)
    worst = min(
        result.rps / results[0].rps
        for result, target in zip(results[1:], targets[1:], strict=True)
        if target.in_target
    )
    verdict = "meets" if worst >= TARGET_RATIO else "misses"
    print(
        f"lowest ratio of the two target pages {worst:.2f}: "
        f"{verdict} the target of {TARGET_RATIO}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
