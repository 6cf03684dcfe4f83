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

from tasks_api.domain.listing import Page, PageRequest, TaskFilter
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


class Storage(abc.ABC):
    """A store holding every repository, opened once per process."""

    users: UserRepository
    projects: ProjectRepository
    tasks: TaskRepository

    @abc.abstractmethod
    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; return their names."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot answer a query right now."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections; the default has none to release."""
