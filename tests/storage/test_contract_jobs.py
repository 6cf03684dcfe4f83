"""The contract, continued: attachments, jobs, job events, idempotency keys."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from tasks_api.domain.jobs import (
    Attachment,
    EventType,
    Job,
    JobStage,
    JobStatus,
)
from tasks_api.domain.listing import Cursor, PageRequest
from tasks_api.domain.model import new_id
from tasks_api.ports.storage import Storage

T0 = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
OWNER = "owner-1"
TASK = "task-1"
_ids = itertools.count()
R = TypeVar("R")


def ordered_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):06d}"


def add_attachment(storage: Storage, **fields: object) -> Attachment:
    values: dict[str, object] = {
        "owner_id": OWNER,
        "task_id": TASK,
        "project_id": "project-1",
        "filename": "scan.png",
        "media_type": "image/png",
        "size": 1234,
        "storage_key": f"{OWNER}/{new_id()}",
        "language": "eng",
        "job_id": new_id(),
        "created_at": T0,
    }
    values.update(fields)
    attachment = Attachment(**values)  # type: ignore[arg-type]
    storage.attachments.add(attachment)
    return attachment


def add_job(storage: Storage, **fields: object) -> Job:
    values: dict[str, object] = {
        "owner_id": OWNER,
        "task_id": TASK,
        "attachment_id": new_id(),
        "storage_key": "key",
        "media_type": "application/pdf",
        "language": "eng+deu",
        "queued_at": T0,
    }
    values.update(fields)
    job = Job(**values)  # type: ignore[arg-type]
    storage.jobs.add(job)
    return job


def read_all(read: Callable[[PageRequest], object], limit: int) -> list[str]:
    """Ids of every item of a paged list, reading ``limit`` at a time."""
    seen: list[str] = []
    after: Cursor | None = None
    while True:
        page = read(PageRequest(limit, after))
        seen += [item.id for item in page.items]  # type: ignore[attr-defined]
        after = page.next_cursor  # type: ignore[attr-defined]
        if after is None:
            return seen


def run_together(count: int, work: Callable[[], R]) -> list[R]:
    """Run ``work`` in ``count`` threads released at the same moment."""
    start = threading.Barrier(count)
    results: list[R] = []
    lock = threading.Lock()

    def one() -> None:
        start.wait()
        result = work()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# Attachments


def test_an_attachment_is_found_by_its_owner_and_nobody_else(
    storage: Storage,
) -> None:
    attachment = add_attachment(storage)

    assert storage.attachments.get(OWNER, attachment.id) == attachment
    assert storage.attachments.get("someone-else", attachment.id) is None


def test_a_tasks_attachments_are_listed_newest_first_in_pages(
    storage: Storage,
) -> None:
    older = [
        add_attachment(storage, id=ordered_id("a"), created_at=T0) for _ in range(3)
    ]
    newer = [
        add_attachment(storage, id=ordered_id("a"), created_at=T0 + timedelta(1))
        for _ in range(3)
    ]
    add_attachment(storage, task_id="other-task")
    add_attachment(storage, owner_id="someone-else")

    listed = read_all(
        lambda page: storage.attachments.list_by_task(OWNER, TASK, page), 2
    )

    assert listed == [a.id for a in [*newer[::-1], *older[::-1]]]


def test_only_the_owner_can_delete_an_attachment(storage: Storage) -> None:
    attachment = add_attachment(storage)

    assert storage.attachments.delete("someone-else", attachment.id) is False
    assert storage.attachments.delete(OWNER, attachment.id) is True
    assert storage.attachments.get(OWNER, attachment.id) is None
    assert storage.attachments.delete(OWNER, attachment.id) is False


def test_deleting_by_tasks_returns_what_was_removed_and_spares_the_rest(
    storage: Storage,
) -> None:
    doomed = [
        add_attachment(storage, task_id="t1"),
        add_attachment(storage, task_id="t1"),
        add_attachment(storage, task_id="t2", owner_id="someone-else"),
    ]
    kept = add_attachment(storage, task_id="t3")

    removed = storage.attachments.delete_by_tasks(["t1", "t2"])

    assert sorted(removed, key=lambda a: a.id) == sorted(doomed, key=lambda a: a.id)
    assert storage.attachments.get(OWNER, doomed[0].id) is None
    assert storage.attachments.get(OWNER, kept.id) == kept
    assert storage.attachments.delete_by_tasks([]) == []


# Jobs


def test_a_job_comes_back_whole_and_only_to_its_owner(storage: Storage) -> None:
    job = add_job(storage, text=None, heartbeat_at=None)

    assert storage.jobs.get(job.id) == job
    assert storage.jobs.get_for_owner(OWNER, job.id) == job
    assert storage.jobs.get_for_owner("someone-else", job.id) is None
    assert storage.jobs.get(new_id()) is None


def test_a_tasks_jobs_are_listed_newest_first_in_pages(storage: Storage) -> None:
    made = [
        add_job(storage, id=ordered_id("j"), queued_at=T0 + timedelta(seconds=i // 2))
        for i in range(7)
    ]
    add_job(storage, task_id="other-task")

    listed = read_all(lambda page: storage.jobs.list_by_task(OWNER, TASK, page), 3)

    assert listed == [job.id for job in made[::-1]]


def test_a_transition_applies_only_from_an_expected_status(
    storage: Storage,
) -> None:
    job = add_job(storage)
    finished = datetime(2024, 5, 6, 7, 10, 0, 456789, tzinfo=UTC)

    wrong = storage.jobs.transition(
        job.id, {JobStatus.RUNNING}, {"status": JobStatus.FAILED}
    )
    right = storage.jobs.transition(
        job.id,
        {JobStatus.QUEUED, JobStatus.RUNNING},
        {
            "status": JobStatus.CANCELLED,
            "cancel_requested": True,
            "finished_at": finished,
        },
    )

    assert wrong is None
    assert right is not None
    assert right.status is JobStatus.CANCELLED
    assert right.cancel_requested is True
    assert right.finished_at == finished.replace(microsecond=456000)
    assert storage.jobs.get(job.id) == right


def test_a_transition_of_a_missing_job_changes_nothing(storage: Storage) -> None:
    assert storage.jobs.transition(new_id(), {JobStatus.QUEUED}, {"text": "x"}) is None


def test_a_transition_may_clear_fields(storage: Storage) -> None:
    job = add_job(
        storage,
        status=JobStatus.RUNNING,
        stage=JobStage.OCR,
        heartbeat_at=T0,
    )

    changed = storage.jobs.transition(
        job.id,
        {JobStatus.RUNNING},
        {"status": JobStatus.QUEUED, "stage": None, "heartbeat_at": None},
    )

    assert changed is not None
    assert (changed.status, changed.stage, changed.heartbeat_at) == (
        JobStatus.QUEUED,
        None,
        None,
    )
    assert storage.jobs.get(job.id) == changed


@pytest.mark.parametrize("field", ["id", "owner_id", "attachment_id", "colour"])
def test_a_transition_of_a_fixed_or_unknown_field_is_refused(
    storage: Storage, field: str
) -> None:
    job = add_job(storage)

    with pytest.raises(ValueError, match=field):
        storage.jobs.transition(job.id, {JobStatus.QUEUED}, {field: "x"})

    assert storage.jobs.get(job.id) == job


def test_claiming_a_queued_job_starts_it(storage: Storage) -> None:
    job = add_job(storage)
    now = T0 + timedelta(minutes=1)

    claimed = storage.jobs.claim(job.id, now, stale_before=now - timedelta(minutes=5))

    assert claimed is not None
    assert claimed.status is JobStatus.RUNNING
    assert claimed.attempts == 1
    assert claimed.heartbeat_at == now
    assert claimed.started_at == now
    assert storage.jobs.get(job.id) == claimed


def test_a_running_job_is_claimed_again_only_once_its_heartbeat_is_stale(
    storage: Storage,
) -> None:
    job = add_job(storage)
    first = T0 + timedelta(minutes=1)
    storage.jobs.claim(job.id, first, stale_before=first - timedelta(minutes=5))

    early = first + timedelta(minutes=1)
    late = first + timedelta(minutes=10)
    too_soon = storage.jobs.claim(job.id, early, early - timedelta(minutes=5))
    at_the_edge = storage.jobs.claim(job.id, early, stale_before=first)
    taken_over = storage.jobs.claim(job.id, late, late - timedelta(minutes=5))

    assert too_soon is None
    assert at_the_edge is None
    assert taken_over is not None
    assert taken_over.attempts == 2
    assert taken_over.heartbeat_at == late
    assert taken_over.started_at == first


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.CANCELLED])
def test_a_finished_or_missing_job_cannot_be_claimed(
    storage: Storage, status: JobStatus
) -> None:
    job = add_job(storage, status=status)

    assert storage.jobs.claim(job.id, T0, T0) is None
    assert storage.jobs.claim(new_id(), T0, T0) is None
    assert storage.jobs.get(job.id) == job


def test_of_many_workers_claiming_one_job_one_wins(atomic_storage: Storage) -> None:
    job = add_job(atomic_storage)

    results = run_together(
        8, lambda: atomic_storage.jobs.claim(job.id, T0, T0 - timedelta(minutes=5))
    )

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    stored = atomic_storage.jobs.get(job.id)
    assert stored is not None
    assert stored.attempts == 1


def test_progress_is_recorded_only_for_a_running_job(storage: Storage) -> None:
    queued = add_job(storage)
    running = add_job(storage, status=JobStatus.RUNNING, heartbeat_at=T0)
    now = T0 + timedelta(seconds=30)

    ignored = storage.jobs.report_progress(queued.id, JobStage.OCR, 1, 3, now)
    recorded = storage.jobs.report_progress(running.id, JobStage.OCR, 2, 3, now)

    assert ignored is None
    assert storage.jobs.get(queued.id) == queued
    assert recorded is not None
    assert (recorded.stage, recorded.pages_done, recorded.pages_total) == (
        JobStage.OCR,
        2,
        3,
    )
    assert recorded.heartbeat_at == now
    assert storage.jobs.get(running.id) == recorded


def test_cancel_is_requested_only_of_an_unfinished_job(storage: Storage) -> None:
    queued = add_job(storage)
    running = add_job(storage, status=JobStatus.RUNNING)
    done = add_job(storage, status=JobStatus.SUCCEEDED)

    for job in (queued, running):
        requested = storage.jobs.request_cancel(job.id)
        assert requested is not None
        assert requested.cancel_requested is True
        assert requested.status is job.status
    assert storage.jobs.request_cancel(done.id) is None
    assert storage.jobs.get(done.id) == done


def test_stalled_jobs_are_old_queued_ones_and_quiet_running_ones(
    storage: Storage,
) -> None:
    now = T0 + timedelta(hours=1)
    old_queued = add_job(storage, queued_at=T0)
    add_job(storage, queued_at=now)
    quiet = add_job(
        storage,
        status=JobStatus.RUNNING,
        queued_at=T0 + timedelta(minutes=1),
        heartbeat_at=now - timedelta(minutes=30),
    )
    add_job(storage, status=JobStatus.RUNNING, queued_at=T0, heartbeat_at=now)
    add_job(storage, status=JobStatus.FAILED, queued_at=T0)

    stalled = storage.jobs.find_stalled(
        queued_before=now - timedelta(minutes=10),
        beat_before=now - timedelta(minutes=5),
    )

    assert [job.id for job in stalled] == [old_queued.id, quiet.id]


def test_unfinished_jobs_are_counted_per_owner(storage: Storage) -> None:
    add_job(storage)
    add_job(storage, status=JobStatus.RUNNING)
    add_job(storage, status=JobStatus.SUCCEEDED)
    add_job(storage, status=JobStatus.FAILED)
    add_job(storage, owner_id="someone-else")

    assert storage.jobs.count_unfinished(OWNER) == 2
    assert storage.jobs.count_unfinished("nobody") == 0


def test_jobs_of_every_owner_are_counted_by_status(storage: Storage) -> None:
    empty = storage.jobs.count_by_status()
    add_job(storage)
    add_job(storage, owner_id="someone-else")
    add_job(storage, status=JobStatus.RUNNING)
    add_job(storage, status=JobStatus.FAILED, owner_id="someone-else")

    counts = storage.jobs.count_by_status()

    assert empty == dict.fromkeys(JobStatus, 0)
    assert counts == {
        JobStatus.QUEUED: 2,
        JobStatus.RUNNING: 1,
        JobStatus.SUCCEEDED: 0,
        JobStatus.FAILED: 1,
        JobStatus.CANCELLED: 0,
    }


def test_deleting_by_attachments_returns_the_job_ids_removed(
    storage: Storage,
) -> None:
    doomed = [
        add_job(storage, attachment_id="a1"),
        add_job(storage, attachment_id="a2"),
    ]
    kept = add_job(storage, attachment_id="a3")

    removed = storage.jobs.delete_by_attachments(["a1", "a2"])

    assert sorted(removed) == sorted(job.id for job in doomed)
    assert storage.jobs.get(doomed[0].id) is None
    assert storage.jobs.get(kept.id) == kept
    assert storage.jobs.delete_by_attachments([]) == []


# Job events


def test_events_are_numbered_from_one_for_each_job(storage: Storage) -> None:
    first = storage.job_events.append("j1", EventType.STATUS, {"status": "queued"})
    other = storage.job_events.append("j2", EventType.STATUS, {"status": "queued"})
    second = storage.job_events.append(
        "j1", EventType.PROGRESS, {"percent": 30, "stage": None, "pages": [1, 2]}
    )

    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    assert storage.job_events.list("j1") == [first, second]
    assert storage.job_events.list("j1", after_seq=1) == [second]
    assert storage.job_events.list("j1", after_seq=2) == []
    assert second.data == {"percent": 30, "stage": None, "pages": [1, 2]}
    assert second.type is EventType.PROGRESS


def test_events_appended_at_once_get_distinct_consecutive_numbers(
    atomic_storage: Storage,
) -> None:
    results = run_together(
        8, lambda: atomic_storage.job_events.append("j1", EventType.PROGRESS, {})
    )

    numbers = sorted(event.seq for event in results)
    assert numbers == list(range(1, 9))
    assert [e.seq for e in atomic_storage.job_events.list("j1")] == numbers


def test_deleting_events_by_jobs_spares_other_jobs(storage: Storage) -> None:
    storage.job_events.append("j1", EventType.STATUS, {})
    storage.job_events.append("j2", EventType.STATUS, {})
    kept = storage.job_events.append("j3", EventType.STATUS, {})

    storage.job_events.delete_by_jobs(["j1", "j2"])

    assert storage.job_events.list("j1") == []
    assert storage.job_events.list("j2") == []
    assert storage.job_events.list("j3") == [kept]


# Idempotency keys


def test_an_idempotency_key_stands_for_the_first_attachment_given(
    storage: Storage,
) -> None:
    first = storage.idempotency.reserve(OWNER, "key-1", "attachment-1")
    again = storage.idempotency.reserve(OWNER, "key-1", "attachment-2")
    same = storage.idempotency.reserve(OWNER, "key-1", "attachment-1")
    other_owner = storage.idempotency.reserve("someone-else", "key-1", "attachment-3")

    assert first is None
    assert again == "attachment-1"
    assert same is None
    assert other_owner is None


def test_of_requests_racing_with_one_key_one_reserves_it(
    atomic_storage: Storage,
) -> None:
    ids = iter(f"attachment-{n}" for n in range(8))
    lock = threading.Lock()

    def reserve() -> tuple[str, str | None]:
        with lock:
            attachment_id = next(ids)
        return attachment_id, atomic_storage.idempotency.reserve(
            OWNER, "key-1", attachment_id
        )

    results = run_together(8, reserve)

    winners = [mine for mine, earlier in results if earlier is None]
    assert len(winners) == 1
    assert {earlier for _, earlier in results} == {None, winners[0]}


def test_a_released_key_can_be_reserved_again_but_not_by_a_stranger(
    storage: Storage,
) -> None:
    storage.idempotency.reserve("owner", "key-1", "first")

    storage.idempotency.release("owner", "key-1", "someone-else")
    kept = storage.idempotency.reserve("owner", "key-1", "second")
    storage.idempotency.release("owner", "key-1", "first")
    freed = storage.idempotency.reserve("owner", "key-1", "third")

    assert kept == "first"
    assert freed is None
