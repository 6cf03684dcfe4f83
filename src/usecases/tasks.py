"""Creating, listing, changing and deleting the tasks of a project."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import date

from tasks_api.domain.errors import NotFound
from tasks_api.domain.listing import ItemJson, Page, PageRequest, TaskFilter
from tasks_api.domain.model import Priority, Task, TaskStatus, utcnow
from tasks_api.ports.storage import Storage

EDITABLE_FIELDS = frozenset({"title", "description", "status", "priority", "due_date"})


class TaskService:
    def __init__(
        self,
        storage: Storage,
        remove_task_contents: Callable[[Collection[str]], None],
    ) -> None:
        self._storage = storage
        self._remove_task_contents = remove_task_contents

    def create(
        self,
        owner_id: str,
        project_id: str,
        title: str,
        description: str = "",
        status: TaskStatus = TaskStatus.TODO,
        priority: Priority = Priority.MEDIUM,
        due_date: date | None = None,
    ) -> Task:
        self._require_project(owner_id, project_id)
        task = Task(
            owner_id=owner_id,
            project_id=project_id,
            title=title,
            description=description,
            status=TaskStatus(status),
            priority=Priority(priority),
            due_date=due_date,
        )

        self._storage.tasks.add(task)
        return task

    def get(self, owner_id: str, task_id: str) -> Task:
        task = self._storage.tasks.get(owner_id, task_id)
        if task is None:
            raise NotFound("No such task.", task_id=task_id)
        return task

    def list(
        self,
        owner_id: str,
        project_id: str,
        where: TaskFilter,
        page: PageRequest,
    ) -> Page[ItemJson]:
        """A page of the project's tasks as JSON items; ``NotFound`` if not the owner's.

        Tasks are stored with their project's owner and deleted with their
        project, so a page with tasks on it proves the project is there and
        the owner's: only an empty page costs a look-up of the project.
        """
        found = self._storage.views.tasks(owner_id, project_id, where, page)
        if not found.items:
            self._require_project(owner_id, project_id)
        return found

    def update(
        self, owner_id: str, task_id: str, changes: Mapping[str, object]
    ) -> Task:
        """Apply the given field changes; fields left out keep their value."""
        task = self.get(owner_id, task_id)
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")

        values = dict(changes)
        if "status" in values:
            values["status"] = TaskStatus(values["status"])
        if "priority" in values:
            values["priority"] = Priority(values["priority"])
        changed = replace(task, **values, updated_at=utcnow())

        self._storage.tasks.update(changed)
        return changed

    def delete(self, owner_id: str, task_id: str) -> None:
        """Delete a task, then its attachments, their files and jobs."""
        if not self._storage.tasks.delete(owner_id, task_id):
            raise NotFound("No such task.", task_id=task_id)
        self._remove_task_contents([task_id])

    def _require_project(self, owner_id: str, project_id: str) -> None:
        if self._storage.projects.get(owner_id, project_id) is None:
            raise NotFound("No such project.", project_id=project_id)
