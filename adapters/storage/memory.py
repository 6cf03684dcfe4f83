"""Storage kept in dictionaries, for tests, demos and one-process runs.

It answers exactly as the SQLite and MongoDB stores do: the same keyset
pages, filters and errors, timestamps cut to milliseconds in UTC. It keeps
copies, so changing an entity a caller gave or got changes nothing stored
until ``update`` is called with it.

Limits: nothing outlives the process, and every list scans the owner's
rows, which is fine up to some tens of thousands.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from tasks_api.adapters.storage.jobfields import TIME_FIELDS, checked_changes
from tasks_api.adapters.storage.keyset import (
    created_key,
    fetch_size,
    page_of,
    queued_key,
    task_key,
    timestamp_key,
    utc_millis,
)
from tasks_api.adapters.storage.views import EntityListViews
from tasks_api.domain.errors import EmailTaken
from tasks_api.domain.jobs import (
    UNFINISHED,
    Attachment,
    EventType,
    Job,
    JobEvent,
    JobStage,
    JobStatus,
)
from tasks_api.domain.listing import Page, PageRequest, TaskFilter
from tasks_api.domain.model import (
    Priority,
    Project,
    Task,
    TaskStatus,
    User,
    utcnow,
)
from tasks_api.ports.storage import (
    AttachmentRepository,
    IdempotencyRepository,
    JobEventRepository,
    JobRepository,
    ProjectRepository,
    Storage,
    TaskRepository,
    UserRepository,
)

_Dated = TypeVar("_Dated", Project, Attachment, Job)


@dataclass
class _Tables:
    """Every repository's rows, behind one lock that each call holds."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[str, User] = field(default_factory=dict)
    user_ids_by_email: dict[str, str] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    job_events: dict[str, list[JobEvent]] = field(default_factory=dict)
    idempotency_keys: dict[tuple[str, str], str] = field(default_factory=dict)


class InMemoryUserRepository(UserRepository):
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, user: User) -> None:
        stored = replace(user, created_at=utc_millis(user.created_at))
        with self._tables.lock:
            _refuse_duplicate(self._tables.users, user.id)
            self._claim_email(user)
            self._tables.users[user.id] = stored

    def get(self, user_id: str) -> User | None:
        with self._tables.lock:
            return _copy(self._tables.users.get(user_id))

    def get_by_email(self, email: str) -> User | None:
        with self._tables.lock:
            user_id = self._tables.user_ids_by_email.get(email)
            return None if user_id is None else self.get(user_id)

    def update(self, user: User) -> None:
        with self._tables.lock:
            old = self._tables.users.get(user.id)
            if old is None:
                return
            self._claim_email(user)
            if old.email != user.email:
                del self._tables.user_ids_by_email[old.email]
            self._tables.users[user.id] = replace(user, created_at=old.created_at)

    def _claim_email(self, user: User) -> None:
        holder = self._tables.user_ids_by_email.get(user.email)
        if holder is not None and holder != user.id:
            raise EmailTaken("That email is already registered.")
        self._tables.user_ids_by_email[user.email] = user.id


class InMemoryProjectRepository(ProjectRepository):
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, project: Project) -> None:
        with self._tables.lock:
            _refuse_duplicate(self._tables.projects, project.id)
            self._tables.projects[project.id] = _stored_project(project)

    def get(self, owner_id: str, project_id: str) -> Project | None:
        with self._tables.lock:
            project = self._tables.projects.get(project_id)
            if project is None or project.owner_id != owner_id:
                return None
            return replace(project)

    def list(self, owner_id: str, page: PageRequest) -> Page[Project]:
        with self._tables.lock:
            rows = [
                replace(project)
                for project in self._tables.projects.values()
                if project.owner_id == owner_id
            ]

        return _newest_first(rows, page, created_key)

    def update(self, project: Project) -> None:
        with self._tables.lock:
            old = self._tables.projects.get(project.id)
            if old is None or old.owner_id != project.owner_id:
                return
            stored = _stored_project(project)
            self._tables.projects[project.id] = replace(
                stored, created_at=old.created_at
            )

    def delete(self, owner_id: str, project_id: str) -> bool:
        with self._tables.lock:
            if self.get(owner_id, project_id) is None:
                return False
            del self._tables.projects[project_id]
            return True


class InMemoryTaskRepository(TaskRepository):
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, task: Task) -> None:
        with self._tables.lock:
            _refuse_duplicate(self._tables.tasks, task.id)
            self._tables.tasks[task.id] = _stored_task(task)

    def get(self, owner_id: str, task_id: str) -> Task | None:
        with self._tables.lock:
            task = self._tables.tasks.get(task_id)
            if task is None or task.owner_id != owner_id:
                return None
            return replace(task)

    def list(
        self,
        owner_id: str,
        project_id: str,
        where: TaskFilter,
        page: PageRequest,
    ) -> Page[Task]:
        with self._tables.lock:
            rows = [
                replace(task)
                for task in self._tables.tasks.values()
                if task.owner_id == owner_id
                and task.project_id == project_id
                and _matches(task, where)
            ]

        sort = where.sort
        rows.sort(key=lambda task: (sort.key(task), task.id))
        if sort.descending:
            rows.reverse()
        if page.after is not None:
            after = (task_key(sort, page.after), page.after.id)
            if sort.descending:
                rows = [row for row in rows if (sort.key(row), row.id) < after]
            else:
                rows = [row for row in rows if (sort.key(row), row.id) > after]
        return page_of(rows[: fetch_size(page.limit)], page.limit, sort.key)

    def update(self, task: Task) -> None:
        with self._tables.lock:
            old = self._tables.tasks.get(task.id)
            if old is None or old.owner_id != task.owner_id:
                return
            stored = _stored_task(task)
            self._tables.tasks[task.id] = replace(
                stored,
                project_id=old.project_id,
                created_at=old.created_at,
            )

    def delete(self, owner_id: str, task_id: str) -> bool:
        with self._tables.lock:
            if self.get(owner_id, task_id) is None:
                return False
            del self._tables.tasks[task_id]
            return True

    def delete_by_project(self, project_id: str) -> list[str]:
        with self._tables.lock:
            ids = [
                task.id
                for task in self._tables.tasks.values()
                if task.project_id == project_id
            ]
            for task_id in ids:
                del self._tables.tasks[task_id]
            return ids


class InMemoryAttachmentRepository(AttachmentRepository):
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, attachment: Attachment) -> None:
        stored = replace(attachment, created_at=utc_millis(attachment.created_at))
        with self._tables.lock:
            _refuse_duplicate(self._tables.attachments, attachment.id)
            self._tables.attachments[attachment.id] = stored

    def get(self, owner_id: str, attachment_id: str) -> Attachment | None:
        with self._tables.lock:
            attachment = self._tables.attachments.get(attachment_id)
            if attachment is None or attachment.owner_id != owner_id:
                return None
            return replace(attachment)

    def list_by_task(
        self, owner_id: str, task_id: str, page: PageRequest
    ) -> Page[Attachment]:
        with self._tables.lock:
            rows = [
                replace(attachment)
                for attachment in self._tables.attachments.values()
                if attachment.owner_id == owner_id and attachment.task_id == task_id
            ]
        return _newest_first(rows, page, created_key)

    def delete(self, owner_id: str, attachment_id: str) -> bool:
        with self._tables.lock:
            if self.get(owner_id, attachment_id) is None:
                return False
            del self._tables.attachments[attachment_id]
            return True

    def delete_by_tasks(self, task_ids: Collection[str]) -> list[Attachment]:
        wanted = set(task_ids)
        with self._tables.lock:
            doomed = [
                attachment
                for attachment in self._tables.attachments.values()
                if attachment.task_id in wanted
            ]
            for attachment in doomed:
                del self._tables.attachments[attachment.id]
            return doomed


class InMemoryJobRepository(JobRepository):
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, job: Job) -> None:
        stored = _stored_job(job)
        with self._tables.lock:
            _refuse_duplicate(self._tables.jobs, job.id)
            self._tables.jobs[job.id] = stored

    def get(self, job_id: str) -> Job | None:
        with self._tables.lock:
            job = self._tables.jobs.get(job_id)
            return None if job is None else replace(job)

    def get_for_owner(self, owner_id: str, job_id: str) -> Job | None:
        job = self.get(job_id)
        return job if job is not None and job.owner_id == owner_id else None

    def list_by_task(self, owner_id: str, task_id: str, page: PageRequest) -> Page[Job]:
        with self._tables.lock:
            rows = [
                replace(job)
                for job in self._tables.jobs.values()
                if job.owner_id == owner_id and job.task_id == task_id
            ]
        return _newest_first(rows, page, queued_key)

    def transition(
        self,
        job_id: str,
        expected: Collection[JobStatus],
        changes: Mapping[str, Any],
    ) -> Job | None:
        checked = checked_changes(changes)
        with self._tables.lock:
            job = self._tables.jobs.get(job_id)
            if job is None or job.status not in expected:
                return None
            return self._put(replace(job, **checked))

    def claim(self, job_id: str, now: datetime, stale_before: datetime) -> Job | None:
        with self._tables.lock:
            job = self._tables.jobs.get(job_id)
            if job is None:
                return None
            quiet = _went_quiet(job, utc_millis(stale_before))
            if job.status is not JobStatus.QUEUED and not quiet:
                return None
            return self._put(
                replace(
                    job,
                    status=JobStatus.RUNNING,
                    attempts=job.attempts + 1,
                    heartbeat_at=utc_millis(now),
                    started_at=job.started_at or utc_millis(now),
                )
            )

    def report_progress(
        self,
        job_id: str,
        stage: JobStage,
        pages_done: int,
        pages_total: int,
        now: datetime,
    ) -> Job | None:
        with self._tables.lock:
            job = self._tables.jobs.get(job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                return None
            return self._put(
                replace(
                    job,
                    stage=JobStage(stage),
                    pages_done=pages_done,
                    pages_total=pages_total,
                    heartbeat_at=utc_millis(now),
                )
            )

    def request_cancel(self, job_id: str) -> Job | None:
        with self._tables.lock:
            job = self._tables.jobs.get(job_id)
            if job is None or job.status not in UNFINISHED:
                return None
            return self._put(replace(job, cancel_requested=True))

    def find_stalled(self, queued_before: datetime, beat_before: datetime) -> list[Job]:
        queued_limit = utc_millis(queued_before)
        beat_limit = utc_millis(beat_before)
        with self._tables.lock:
            stalled = [
                replace(job)
                for job in self._tables.jobs.values()
                if (
                    job.status is JobStatus.QUEUED
                    and (job.due_at or job.queued_at) < queued_limit
                )
                or _went_quiet(job, beat_limit)
            ]
        stalled.sort(key=lambda job: (job.queued_at, job.id))
        return stalled

    def count_unfinished(self, owner_id: str) -> int:
        with self._tables.lock:
            return sum(
                1
                for job in self._tables.jobs.values()
                if job.owner_id == owner_id and job.status in UNFINISHED
            )

    def count_by_status(self) -> dict[JobStatus, int]:
        counts = dict.fromkeys(JobStatus, 0)
        with self._tables.lock:
            for job in self._tables.jobs.values():
                counts[job.status] += 1
        return counts

    def delete_by_attachments(self, attachment_ids: Collection[str]) -> list[str]:
        wanted = set(attachment_ids)
        with self._tables.lock:
            doomed = [
                job.id
                for job in self._tables.jobs.values()
                if job.attachment_id in wanted
            ]
            for job_id in doomed:
                del self._tables.jobs[job_id]
            return doomed

    def _put(self, job: Job) -> Job:
        """Store a changed job (the caller holds the lock); return a copy."""
        self._tables.jobs[job.id] = job
        return replace(job)


class InMemoryJobEventRepository(JobEventRepository):
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def append(self, job_id: str, type: EventType, data: Mapping[str, Any]) -> JobEvent:
        # Through JSON and back, as the other stores keep it.
        kept = json.loads(json.dumps(dict(data)))
        with self._tables.lock:
            events = self._tables.job_events.setdefault(job_id, [])
            event = JobEvent(
                job_id=job_id,
                seq=len(events) + 1,
                type=EventType(type),
                data=kept,
                created_at=utcnow(),
            )
            events.append(event)
        return replace(event, data=json.loads(json.dumps(kept)))

    def list(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        with self._tables.lock:
            events = list(self._tables.job_events.get(job_id, []))
        return [
            replace(event, data=json.loads(json.dumps(event.data)))
            for event in events
            if event.seq > after_seq
        ]

    def delete_by_jobs(self, job_ids: Collection[str]) -> None:
        with self._tables.lock:
            for job_id in job_ids:
                self._tables.job_events.pop(job_id, None)


class InMemoryIdempotencyRepository(IdempotencyRepository):
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def reserve(self, owner_id: str, key: str, attachment_id: str) -> str | None:
        with self._tables.lock:
            recorded = self._tables.idempotency_keys.setdefault(
                (owner_id, key), attachment_id
            )
        return None if recorded == attachment_id else recorded

    def release(self, owner_id: str, key: str, attachment_id: str) -> None:
        with self._tables.lock:
            if self._tables.idempotency_keys.get((owner_id, key)) == attachment_id:
                del self._tables.idempotency_keys[(owner_id, key)]


class InMemoryStorage(Storage):
    """Every repository in dictionaries; safe to share between threads."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self.users = InMemoryUserRepository(self._tables)
        self.projects = InMemoryProjectRepository(self._tables)
        self.tasks = InMemoryTaskRepository(self._tables)
        self.views = EntityListViews(self.projects, self.tasks)
        self.attachments = InMemoryAttachmentRepository(self._tables)
        self.jobs = InMemoryJobRepository(self._tables)
        self.job_events = InMemoryJobEventRepository(self._tables)
        self.idempotency = InMemoryIdempotencyRepository(self._tables)

    def migrate(self) -> list[str]:
        """Nothing to migrate: the tables are made with the store."""
        return []

    def ping(self) -> None:
        """Always answers: the store is in this process."""


def _newest_first(
    rows: list[_Dated], page: PageRequest, key: Callable[[_Dated], str]
) -> Page[_Dated]:
    """A page of rows ordered by ``key`` then id, both descending."""
    rows = sorted(rows, key=lambda row: (key(row), row.id), reverse=True)
    if page.after is not None:
        after = (timestamp_key(page.after), page.after.id)
        rows = [row for row in rows if (key(row), row.id) < after]
    return page_of(rows[: fetch_size(page.limit)], page.limit, key)


def _went_quiet(job: Job, stale_before: datetime) -> bool:
    """Running, with a heartbeat older than ``stale_before``."""
    return (
        job.status is JobStatus.RUNNING
        and job.heartbeat_at is not None
        and job.heartbeat_at < stale_before
    )


def _matches(task: Task, where: TaskFilter) -> bool:
    if where.status is not None and task.status != where.status:
        return False
    if where.priority is not None and task.priority != where.priority:
        return False
    if where.due_from is None and where.due_to is None:
        return True
    if task.due_date is None:
        return False
    if where.due_from is not None and task.due_date < where.due_from:
        return False
    return where.due_to is None or task.due_date <= where.due_to


def _stored_project(project: Project) -> Project:
    return replace(
        project,
        created_at=utc_millis(project.created_at),
        updated_at=utc_millis(project.updated_at),
    )


def _stored_task(task: Task) -> Task:
    return replace(
        task,
        status=TaskStatus(task.status),
        priority=Priority(task.priority),
        created_at=utc_millis(task.created_at),
        updated_at=utc_millis(task.updated_at),
    )


def _stored_job(job: Job) -> Job:
    times = {
        name: None if getattr(job, name) is None else utc_millis(getattr(job, name))
        for name in TIME_FIELDS
    }
    stage = None if job.stage is None else JobStage(job.stage)
    return replace(job, status=JobStatus(job.status), stage=stage, **times)


def _copy(user: User | None) -> User | None:
    return None if user is None else replace(user)


def _refuse_duplicate(table: dict[str, object], item_id: str) -> None:
    if item_id in table:
        raise ValueError(f"An item with id {item_id!r} is already stored.")
