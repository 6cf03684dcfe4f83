"""The apps' own cost per request: each WSGI callable in a loop, no server.

    .venv/bin/python -m bench.api.inprocess [--requests 3000]
    .venv/bin/python -m bench.api.inprocess --instructions [--requests 200]

Builds in this process the service in embedded mode (a temporary
DATA_DIR, SQLite) and the bare app of ``bench/api/bare.py``, seeds the
data ``python -m bench.api`` uses, and calls each app's WSGI callable for
the same three requests in a loop: no gunicorn, no sockets, no gevent, so
what it measures is the apps alone. It prints microseconds per request,
and each endpoint's cost as a multiple of the bare endpoint's.

With ``--instructions`` it runs the loops again in a child process under
valgrind's callgrind (``apt-get install valgrind``) and prints the
instructions each request executed, counted inside the loops only. That
count does not move with the machine's load the way time does, so it is
the figure to compare two versions of the code by; it says nothing about
time spent waiting on memory.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import operator
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder

from bench.api.bare import PATH as BARE_PATH
from bench.api.bare import create_bare_app
from bench.api.workload import PAGE_SIZE, PROJECT_PAGE, Post, seed, task_page
from tasks_api.entrypoints.bootstrap import build_app
from tasks_api.entrypoints.logs import configure_logging
from tasks_api.entrypoints.settings import load_settings

WARM_UP_SHARE = 0.1
# The endpoints' names, in the order they are built, timed and counted.
BARE_NAME = "bare Flask JSON"
PROJECT_PAGE_NAME = f"GET {PROJECT_PAGE}"
TASK_PAGE_NAME = f"GET {task_page('{id}')}"
ENDPOINT_NAMES = (BARE_NAME, PROJECT_PAGE_NAME, TASK_PAGE_NAME)


@dataclass(frozen=True)
class Endpoint:
    name: str
    app: Flask
    environ: dict[str, Any]

    def fresh_environ(self) -> dict[str, Any]:
        """The request's environ with an unread body, as each request needs."""
        return {**self.environ, "wsgi.input": io.BytesIO()}


def client_post(client: FlaskClient) -> Post:
    """POST through Flask's test client, for ``workload.seed``."""

    def post(path: str, body: dict, headers: Mapping[str, str]) -> dict:
        answer = client.post(path, json=body, headers=dict(headers))
        if answer.status_code >= 400:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text}")
        return answer.get_json()

    return post


def build_endpoints(data_dir: Path, log_level: str) -> list[Endpoint]:
    """The service and the bare app, seeded, with one GET request for each page."""
    # Only the bench's own settings: the caller's environment cannot switch
    # on MongoDB, Redis or anything else.
    settings = load_settings({"DATA_DIR": str(data_dir), "LOG_LEVEL": log_level})
    configure_logging(settings.log_level, settings.log_format)
    # The access lines are formatted and written as under gunicorn, to a
    # file that keeps nothing.
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115

    service = build_app(settings, sweep=False)
    token, busy = seed(client_post(service.test_client()))
    bearer = {"Authorization": f"Bearer {token}"}
    endpoints = [
        Endpoint(BARE_NAME, create_bare_app(), _get(BARE_PATH, {})),
        Endpoint(PROJECT_PAGE_NAME, service, _get(PROJECT_PAGE, bearer)),
        Endpoint(TASK_PAGE_NAME, service, _get(task_page(busy), bearer)),
    ]
    for endpoint in endpoints:
        _check(endpoint)
    return endpoints


def call(endpoint: Endpoint, requests: int) -> None:
    """Serve ``requests`` copies of the endpoint's request, as a WSGI server would."""
    for _ in range(requests):
        body = endpoint.app(endpoint.fresh_environ(), _start_response)
        try:
            for _chunk in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()


def warm_up(endpoint: Endpoint, requests: int) -> None:
    """A tenth of the measured requests first, so caches and statements are warm."""
    call(endpoint, max(1, int(requests * WARM_UP_SHARE)))


def time_endpoints(endpoints: Iterable[Endpoint], requests: int) -> dict[str, float]:
    """Microseconds per request for each endpoint, after a short warm-up."""
    costs = {}
    for endpoint in endpoints:
        warm_up(endpoint, requests)
        started = time.perf_counter()
        call(endpoint, requests)
        costs[endpoint.name] = (time.perf_counter() - started) / requests * 1e6
    return costs


def count_in_child(endpoints: Iterable[Endpoint], requests: int) -> None:
    """The loops callgrind counts: each runs inside ``operator.call``.

    The child starts with collection off and callgrind collects only while
    ``_operator_call``, a C function nothing else here calls, is running;
    it writes one profile as each loop ends (``--dump-after``).
    """
    for endpoint in endpoints:
        warm_up(endpoint, requests)
        operator.call(call, endpoint, requests)


def count_instructions(args: argparse.Namespace) -> dict[str, float]:
    """Run the loops under callgrind in a child; instructions per request."""
    if shutil.which("valgrind") is None:
        raise SystemExit(
            "bench.api.inprocess: valgrind not found; apt-get install valgrind"
        )

    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as workdir:
        profile = Path(workdir) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=_operator_call",
            "--dump-after=_operator_call",
            f"--callgrind-out-file={profile}",
            sys.executable,
            "-m",
            "bench.api.inprocess",
            "--child",
            f"--requests={args.requests}",
            f"--log-level={args.log_level}",
        ]
        # Fixed hashing, so two runs of the same code count the same.
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        child = subprocess.run(command, env=env, capture_output=True, text=True)
        if child.returncode != 0:
            tail = "\n".join(child.stderr.splitlines()[-20:])
            raise RuntimeError(f"the callgrind run failed:\n{tail}")
        dumps = sorted(
            Path(workdir).glob("callgrind.out.*"),
            key=lambda path: int(path.name.rsplit(".", 1)[1]),
        )
        totals = [_total_instructions(dump) for dump in dumps]

    if len(totals) != len(ENDPOINT_NAMES):
        raise RuntimeError(
            f"expected {len(ENDPOINT_NAMES)} callgrind dumps, got {len(totals)}"
        )
    return {
        name: total / args.requests
        for name, total in zip(ENDPOINT_NAMES, totals, strict=True)
    }


def print_table(
    title: str, unit: str, costs: Mapping[str, float], decimals: int
) -> None:
    print()
    print(title)
    width = max(len(name) for name in costs)
    header = f"{'endpoint':<{width}} {unit:>12} {'x bare':>7}"
    print(header)
    print("-" * len(header))
    bare = next(iter(costs.values()))
    for name, cost in costs.items():
        print(f"{name:<{width}} {cost:>12,.{decimals}f} {cost / bare:>7.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api.inprocess", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help="requests per endpoint (default 3000, or 200 with --instructions)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per request under callgrind (slow: 40 to 100 s)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the service's LOG_LEVEL; INFO (the default) logs every request",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests is None:
        args.requests = 200 if args.instructions or args.child else 3000
    return args


def main() -> int:
    args = parse_args()
    if args.instructions:
        costs = count_instructions(args)
        print_table(
            f"instructions per request, {args.requests} requests each, "
            f"service LOG_LEVEL={args.log_level}",
            "instructions",
            costs,
            decimals=0,
        )
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as data_dir:
        endpoints = build_endpoints(Path(data_dir), args.log_level)
        if args.child:
            count_in_child(endpoints, args.requests)
            return 0
        costs = time_endpoints(endpoints, args.requests)
    print_table(
        f"microseconds per request, {args.requests} requests each, "
        f"service LOG_LEVEL={args.log_level}",
        "us/req",
        costs,
        decimals=1,
    )
    return 0


def _get(path_and_query: str, headers: Mapping[str, str]) -> dict[str, Any]:
    path, _, query = path_and_query.partition("?")
    return EnvironBuilder(
        path=path, query_string=query, headers=dict(headers)
    ).get_environ()


def _check(endpoint: Endpoint) -> None:
    """Answer once by hand first, so no loop measures an error page."""
    statuses: list[str] = []
    body = b"".join(
        endpoint.app(
            endpoint.fresh_environ(),
            lambda status, headers, *_: statuses.append(status),
        )
    )
    if not statuses[0].startswith("200"):
        raise RuntimeError(f"{endpoint.name}: {statuses[0]} {body[:200]!r}")
    if endpoint.name != BARE_NAME and len(json.loads(body)["items"]) != PAGE_SIZE:
        raise RuntimeError(f"{endpoint.name}: not a page of {PAGE_SIZE} items")


def _start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
    return lambda data: None


def _total_instructions(dump: Path) -> int:
    match = re.search(r"^totals: (\d+)", dump.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{dump}: no totals line")
    return int(match.group(1))


if __name__ == "__main__":
    sys.exit(main())
