"""Ordinary requests, timed one after another from a process of their own.

    python -m bench.sse.probe URL --seconds 20 --interval 0.05

Reads the bearer token from BENCH_TOKEN, sends ``GET URL`` over one
keep-alive connection every ``interval`` seconds for ``seconds``, and
prints one line of JSON: each request's latency in seconds, and how many
answered something other than 200. It runs apart from the bench's event
loop so that loop's work on thousands of streams never delays a reading.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--interval", type=float, default=0.05)
    args = parser.parse_args()

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {os.environ['BENCH_TOKEN']}"
    session.get(args.url, timeout=30).raise_for_status()  # warm, not counted

    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            answer = session.get(args.url, timeout=30)
            ok = answer.status_code == 200
        except requests.RequestException:
            ok = False
        took = time.monotonic() - started
        latencies.append(took)
        failures += not ok
        time.sleep(max(0.0, args.interval - took))

    json.dump({"latencies": latencies, "failures": failures}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
