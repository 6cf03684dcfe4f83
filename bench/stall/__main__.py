"""How long logins stall other requests on one gevent API process.

    .venv/bin/python -m bench.stall

Starts the embedded service, pings /healthz continuously from one thread
while another logs in ten times, and prints the ping latencies. Argon2
takes tens of milliseconds a hash; run on the event loop, it would hold
up every other request and stream for that long.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from e2e.client import ApiClient
from servers import api_server

LOGINS = 10


def main() -> None:
    with tempfile.TemporaryDirectory() as data, api_server(Path(data)) as server:
        user = ApiClient(server.url).sign_up("probe@example.com")
        assert user.token
        latencies: list[float] = []
        done = threading.Event()

        def ping() -> None:
            session = requests.Session()
            while not done.is_set():
                started = time.perf_counter()
                session.get(f"{server.url}/healthz", timeout=10)
                latencies.append((time.perf_counter() - started) * 1000)

        pinger = threading.Thread(target=ping)
        pinger.start()
        for _ in range(LOGINS):
            requests.post(
                f"{server.url}/api/v1/auth/login",
                json={
                    "email": "probe@example.com",
                    "password": "a long enough password",
                },
                timeout=10,
            )
        done.set()
        pinger.join()

    latencies.sort()
    print(
        f"/healthz during {LOGINS} logins: {len(latencies)} pings, "
        f"p50 {latencies[len(latencies) // 2]:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)]:.1f} ms, "
        f"max {latencies[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
