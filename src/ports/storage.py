"""Storage port: one repository per aggregate, reached through ``Storage``.

Every call is atomic on its own and there is no multi-call transaction:
MongoDB without a replica set has none to offer. Use cases order their
writes so that a crash between two calls leaves nothing a user can see in
an inconsistent state (a deleted project's tasks are unreachable before
they are removed, for example).

Queries that read a user's things take the owner's id, so a repository
cannot hand one user another's project by mistake.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from tasks_api.domain.jobs import (
    Attachment,
    EventType,
    Job,
    JobEvent,
    JobStage,
    JobStatus,
)
from tasks_api.domain.listing import ItemJson, Page, PageRequest, TaskFilter
from tasks_api.domain.model import Project, Task, User


class UserRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, user: User) -> None:
        """Store a new user; raise ``EmailTaken`` if the email is in use."""

    @abc.abstractmethod
    def get(self, user_id: str) -> User | None: ...

    @abc.abstractmethod
    def get_by_email(self, email: str) -> User | None:
        """Find a user by an email already normalized by the caller."""

    @abc.abstractmethod
    def update(self, user: User) -> None: ...


class ProjectRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, project: Project) -> None: ...

    @abc.abstractmethod
    def get(self, owner_id: str, project_id: str) -> Project | None: ...

    @abc.abstractmethod
    def list(self, owner_id: str, page: PageRequest) -> Page[Project]:
        """The owner's projects, newest first."""

    @abc.abstractmethod
    def update(self, project: Project) -> None: ...

    @abc.abstractmethod
    def delete(self, owner_id: str, project_id: str) -> bool:
        """Remove the project; False if the owner had no such project."""


class TaskRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, task: Task) -> None: ...

    @abc.abstractmethod
    def get(self, owner_id: str, task_id: str) -> Task | None: ...

    @abc.abstractmethod
    def list(
        self,
        owner_id: str,
        project_id: str,
        where: TaskFilter,
        page: PageRequest,
    ) -> Page[Task]:
        """One page of a project's tasks, filtered and ordered by ``where``."""

    @abc.abstractmethod
    def update(self, task: Task) -> None: ...

    @abc.abstractmethod
    def delete(self, owner_id: str, task_id: str) -> bool:
        """Remove the task; False if the owner had no such task."""

    @abc.abstractmethod
    def delete_by_project(self, project_id: str) -> list[str]:
        """Remove every task of a project and return their ids."""


class AttachmentRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, attachment: Attachment) -> None: ...

    @abc.abstractmethod
    def get(self, owner_id: str, attachment_id: str) -> Attachment | None: ...

    @abc.abstractmethod
    def list_by_task(
        self, owner_id: str, task_id: str, page: PageRequest
    ) -> Page[Attachment]:
        """A task's attachments, newest first (cursor key: creation time)."""

    @abc.abstractmethod
    def delete(self, owner_id: str, attachment_id: str) -> bool: ...

    @abc.abstractmethod
    def delete_by_tasks(self, task_ids: Collection[str]) -> list[Attachment]:
        """Remove every attachment of these tasks and return them."""


class JobRepository(abc.ABC):
    """Jobs, changed only by compare-and-set on their status."""

    @abc.abstractmethod
    def add(self, job: Job) -> None: ...

    @abc.abstractmethod
    def get(self, job_id: str) -> Job | None:
        """Any user's job: for the worker side, which acts for no user."""

    @abc.abstractmethod
    def get_for_owner(self, owner_id: str, job_id: str) -> Job | None: ...

    @abc.abstractmethod
    def list_by_task(self, owner_id: str, task_id: str, page: PageRequest) -> Page[Job]:
        """A task's jobs, newest first (cursor key: queued time)."""

    @abc.abstractmethod
    def transition(
        self,
        job_id: str,
        expected: Collection[JobStatus],
        changes: Mapping[str, Any],
    ) -> Job | None:
        """Apply ``changes`` only if the job's status is one of ``expected``.

        Returns the job as changed, or None when it was in another state
        (or does not exist) and nothing was written.
        """

    @abc.abstractmethod
    def claim(self, job_id: str, now: datetime, stale_before: datetime) -> Job | None:
        """Start a job for a worker: atomically, if it is queued, or running
        with a heartbeat older than ``stale_before`` (its worker died).

        The claimed job is running, ``attempts`` is one higher,
        ``heartbeat_at`` is ``now`` and ``started_at`` is set if it was not.
        Returns None when the job is not claimable.
        """

    @abc.abstractmethod
    def report_progress(
        self,
        job_id: str,
        stage: JobStage,
        pages_done: int,
        pages_total: int,
        now: datetime,
    ) -> Job | None:
        """Record progress and the heartbeat of a running job; None otherwise."""

    @abc.abstractmethod
    def request_cancel(self, job_id: str) -> Job | None:
        """Set ``cancel_requested`` on an unfinished job; None if finished."""

    @abc.abstractmethod
    def find_stalled(self, queued_before: datetime, beat_before: datetime) -> list[Job]:
        """Queued jobs due (``due_at``, else ``queued_at``) before
        ``queued_before`` and running jobs whose heartbeat is older than
        ``beat_before``: the ones a sweep re-sends."""

    @abc.abstractmethod
    def count_unfinished(self, owner_id: str) -> int: ...

    @abc.abstractmethod
    def count_by_status(self) -> dict[JobStatus, int]:
        """How many jobs of every user are in each status, for metrics.

        Every status is a key, with 0 when no job is in it. A pass over the
        status index: cheap for a scrape every few seconds, but it grows
        with the jobs kept.
        """

    @abc.abstractmethod
    def delete_by_attachments(self, attachment_ids: Collection[str]) -> list[str]:
        """Remove the jobs of these attachments and return their ids."""


class JobEventRepository(abc.ABC):
    @abc.abstractmethod
    def append(self, job_id: str, type: EventType, data: Mapping[str, Any]) -> JobEvent:
        """Store an event under the job's next number, atomically."""

    @abc.abstractmethod
    def list(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        """The job's events numbered above ``after_seq``, in order."""

    @abc.abstractmethod
    def delete_by_jobs(self, job_ids: Collection[str]) -> None: ...


class IdempotencyRepository(abc.ABC):
    """Remembers which attachment a client's Idempotency-Key created."""

    @abc.abstractmethod
    def reserve(self, owner_id: str, key: str, attachment_id: str) -> str | None:
        """Record ``attachment_id`` under the key unless one is recorded.

        Returns None when this call recorded it, else the attachment id the
        key already stands for.
        """

    @abc.abstractmethod
    def release(self, owner_id: str, key: str, attachment_id: str) -> None:
        """Forget the key if it still stands for ``attachment_id``.

        For an upload that was refused: the client may retry the same key.
        """


class ListViews(abc.ABC):
    """The read side of the project and task lists: pages of items as JSON.

    The list routes answer with JSON, not entities, so a store that keeps
    or writes its rows as JSON need not build an entity, or even a Python
    value for each field, first. Each method gives what the
    matching repository's ``list`` gives, each entity written as the JSON
    of ``project_item`` or ``task_item``, with the same next cursor;
    ``EntityListViews`` does exactly that.
    """

    @abc.abstractmethod
    def projects(self, owner_id: str, page: PageRequest) -> Page[ItemJson]: ...

    @abc.abstractmethod
    def tasks(
        self, owner_id: str, project_id: str, where: TaskFilter, page: PageRequest
    ) -> Page[ItemJson]: ...


class Storage(abc.ABC):
    """A store holding every repository, opened once per process."""

    users: UserRepository
    projects: ProjectRepository
    tasks: TaskRepository
    views: ListViews
    attachments: AttachmentRepository
    jobs: JobRepository
    job_events: JobEventRepository
    idempotency: IdempotencyRepository

    @abc.abstractmethod
    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; return their names."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot answer a query right now."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections; the default has none to release."""
