"""Storage kept in dictionaries, for tests, demos and one-process runs.

It answers exactly as the SQLite and MongoDB stores do: the same keyset
pages, filters and errors, timestamps cut to milliseconds in UTC. It keeps
copies, so changing an entity a caller gave or got changes nothing stored
until ``update`` is called with it.

Limits: nothing outlives the process, and every list scans the owner's
rows, which is fine up to some tens of thousands.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from tasks_api.adapters.storage.keyset import (
    fetch_size,
    page_of,
    project_key,
    task_key,
    timestamp_key,
    utc_millis,
)
from tasks_api.domain.errors import EmailTaken
from tasks_api.domain.listing import Page, PageRequest, TaskFilter
from tasks_api.domain.model import Priority, Project, Task, TaskStatus, User
from tasks_api.ports.storage import (
    ProjectRepository,
    Storage,
    TaskRepository,
    UserRepository,
)


@dataclass
class _Tables:
    """Every repository's rows, behind one lock that each call holds."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[str, User] = field(default_factory=dict)
    user_ids_by_email: dict[str, str] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)


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

        rows.sort(key=lambda project: (project_key(project), project.id))
        rows.reverse()
        if page.after is not None:
            after = (timestamp_key(page.after), page.after.id)
            rows = [row for row in rows if (project_key(row), row.id) < after]
        return page_of(rows[: fetch_size(page.limit)], page.limit, project_key)

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


class InMemoryStorage(Storage):
    """Every repository in dictionaries; safe to share between threads."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self.users = InMemoryUserRepository(self._tables)
        self.projects = InMemoryProjectRepository(self._tables)
        self.tasks = InMemoryTaskRepository(self._tables)

    def migrate(self) -> list[str]:
        """Nothing to migrate: the tables are made with the store."""
        return []

    def ping(self) -> None:
        """Always answers: the store is in this process."""


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


def _copy(user: User | None) -> User | None:
    return None if user is None else replace(user)


def _refuse_duplicate(table: dict[str, object], item_id: str) -> None:
    if item_id in table:
        raise ValueError(f"An item with id {item_id!r} is already stored.")
