"""Following jobs over SSE against a real gunicorn + gevent server."""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests
from servers import RunningProcess
from sse_client import open_stream, until_final

from e2e.client import ApiClient
from e2e.conftest import scanned_pdf

# Enough pages to keep a job thread busy for far longer than a client
# takes to be found gone (a heartbeat or two, 1 s each here); the test
# cancels them once it has its answer.
BUSY_SCAN_PAGES = 30


def live_url(user: ApiClient, job_id: str) -> str:
    return f"{user.url}/api/v1/jobs/{job_id}/live"


def text_job(user: ApiClient) -> str:
    task_id = user.new_task()
    upload = user.upload(task_id, "a.txt", b"A short note. It has two sentences.")
    return upload["job"]["id"]


def slow_job(user: ApiClient, tmp_path: Path, pages: int = 3) -> str:
    data, _ = scanned_pdf(tmp_path, pages=pages)
    return user.upload(user.new_task(), "scan.pdf", data)["job"]["id"]


def test_a_stream_shows_a_jobs_events_in_order_and_ends_on_its_status(
    user: ApiClient,
) -> None:
    job_id = text_job(user)
    stream = open_stream(live_url(user, job_id), user.token)

    events = until_final(stream)
    remaining = list(stream.events())

    assert stream.response.headers["Content-Type"].startswith("text/event-stream")
    assert stream.response.headers["Cache-Control"] == "no-cache"
    assert stream.response.headers["X-Accel-Buffering"] == "no"
    assert stream.retry == 3000
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert events[0].data["status"] == "queued"
    assert {"summary_ready", "progress"} <= {e.type for e in events}
    assert events[-1].data["status"] == "succeeded"
    assert remaining == []


def test_reconnecting_mid_job_sends_exactly_what_was_missed(
    user: ApiClient, tmp_path: Path
) -> None:
    job_id = slow_job(user, tmp_path)
    first = open_stream(live_url(user, job_id), user.token)
    head = []
    for event in first.events():
        head.append(event)
        if len(head) == 3:
            break
    first.close()

    second = open_stream(live_url(user, job_id), user.token, last_event_id=head[-1].id)
    tail = until_final(second)
    replay = until_final(open_stream(live_url(user, job_id), user.token))

    assert [e.id for e in head + tail] == [e.id for e in replay]
    assert [e.data for e in head + tail] == [e.data for e in replay]


def test_reconnecting_after_the_final_event_is_told_to_stop(user: ApiClient) -> None:
    job_id = text_job(user)
    events = until_final(open_stream(live_url(user, job_id), user.token))

    again = requests.get(
        live_url(user, job_id),
        headers={**user.headers, "Last-Event-ID": str(events[-1].id)},
        timeout=10,
    )

    assert again.status_code == 204


def test_a_finished_jobs_stream_replays_the_history_and_closes(user: ApiClient) -> None:
    job_id = text_job(user)
    until_final(open_stream(live_url(user, job_id), user.token))

    late = open_stream(live_url(user, job_id), user.token)
    everything = list(late.events())

    assert everything[-1].data["status"] == "succeeded"
    assert [e.id for e in everything] == list(range(1, len(everything) + 1))


def test_someone_elses_job_is_a_404_before_any_event(
    embedded: RunningProcess, user: ApiClient
) -> None:
    job_id = text_job(user)
    stranger = ApiClient(embedded.url).sign_up()

    answer = requests.get(live_url(user, job_id), headers=stranger.headers, timeout=10)

    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"


def test_a_browser_subscribes_with_a_stream_token_and_no_header(
    user: ApiClient,
) -> None:
    job_id = text_job(user)

    minted = user.call("POST", f"/jobs/{job_id}/stream-token", 201).json()
    stream = open_stream(f"{user.url}{minted['url']}")
    events = until_final(stream)

    assert minted["expires_in"] <= 300
    assert user.token not in minted["url"]
    assert events[-1].data["status"] == "succeeded"


def test_a_stream_token_is_good_for_its_own_job_only(user: ApiClient) -> None:
    mine = text_job(user)
    other = text_job(user)
    token = user.call("POST", f"/jobs/{mine}/stream-token", 201).json()["stream_token"]

    answer = requests.get(
        live_url(user, other), params={"stream_token": token}, timeout=10
    )
    as_access_token = requests.get(
        f"{user.url}/api/v1/auth/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    assert answer.status_code == 401
    assert as_access_token.status_code == 401


def _open_streams(embedded: RunningProcess) -> float:
    for line in requests.get(f"{embedded.url}/metrics", timeout=10).text.splitlines():
        if line.startswith("tasks_api_open_streams "):
            return float(line.split()[1])
    raise AssertionError("no open-streams gauge")


def test_a_disconnected_client_is_released_within_a_heartbeat(
    embedded: RunningProcess, user: ApiClient, tmp_path: Path
) -> None:
    # The embedded server runs jobs on one thread per core. A long scan on
    # each keeps the followed job queued, so only heartbeats go down its
    # stream and only a heartbeat can find the client gone. (With one scan,
    # a second core ran the followed job at once, and the stream ended with
    # the job: the test passed without testing anything, or failed when the
    # job ended before the gauge was read.)
    scan, _ = scanned_pdf(tmp_path, pages=BUSY_SCAN_PAGES)
    busy = [
        user.upload(user.new_task(), "scan.pdf", scan)["job"]["id"]
        for _ in range(os.cpu_count() or 1)
    ]
    waiting = text_job(user)
    stream = open_stream(live_url(user, waiting), user.token)
    next(stream.events())
    held = _open_streams(embedded)

    stream.close()
    deadline = time.monotonic() + 10
    while _open_streams(embedded) >= held and time.monotonic() < deadline:
        time.sleep(0.2)
    released = _open_streams(embedded)
    waited_throughout = user.job(waiting)["status"] == "queued"
    for job_id in busy:
        user.call("DELETE", f"/jobs/{job_id}/cancel")

    assert waited_throughout, "the scans ended too soon to keep the job queued"
    assert held >= 1
    assert released == held - 1
