"""Ordinary requests, timed one after another from a process of their own.

    python -m bench.sse.probe URL --seconds 20 --interval 0.05

Reads the bearer token from BENCH_TOKEN, sends ``GET URL`` over one
keep-alive connection on a fixed timetable, one every ``interval``
seconds for ``seconds``, and prints one line of JSON: each request's
latency and when it fell due (seconds into the window), and how many
answered something other than 200. It
runs apart from the bench's event loop so that loop's work on thousands
of streams never delays a reading.

A latency runs from when the request was due, not from when it was
sent: if the server stalls for 300 ms, the requests that fell due
meanwhile count the wait too, as they would for users arriving on their
own. Timing from the send instead would record one slow request and
hide the stall behind it.
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
    dues: list[float] = []
    failures = 0
    first = time.monotonic()
    for number in range(int(args.seconds / args.interval)):
        due = first + number * args.interval
        time.sleep(max(0.0, due - time.monotonic()))
        try:
            answer = session.get(args.url, timeout=30)
            ok = answer.status_code == 200
        except requests.RequestException:
            ok = False
        latencies.append(time.monotonic() - due)
        dues.append(due - first)
        failures += not ok

    json.dump({"latencies": latencies, "due": dues, "failures": failures}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
