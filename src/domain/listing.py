"""Filters, sort orders and keyset pages for list queries.

A page is read after a cursor: the sort value and id of the last item the
client saw. Keyset pages stay correct when rows are added between two
requests and cost the same on page 1,000 as on page 1.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from tasks_api.domain.errors import InvalidInput
from tasks_api.domain.model import Priority, Project, Task, TaskStatus

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def clamp_limit(limit: int | None) -> int:
    """The page size to use: the default when unset, never above MAX_LIMIT."""
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(limit, MAX_LIMIT))


class TaskSort(enum.StrEnum):
    """How a task list is ordered; ties are broken by id, same direction.

    Newest first for the timestamps, highest first for priority, soonest
    first for the due date with undated tasks last.
    """

    CREATED = "created"
    UPDATED = "updated"
    DUE = "due"
    PRIORITY = "priority"

    @property
    def descending(self) -> bool:
        return self is not TaskSort.DUE

    def key(self, task: Task) -> str | int:
        """The value a task is ordered by under this sort, as a cursor holds it."""
        if self is TaskSort.CREATED:
            return iso_millis(task.created_at)
        if self is TaskSort.UPDATED:
            return iso_millis(task.updated_at)
        if self is TaskSort.PRIORITY:
            return task.priority.rank
        return task.due_date.isoformat() if task.due_date else UNDATED


# Sorts after every real ISO date, so undated tasks come last when ascending.
UNDATED = "9999-99-99"

# One encoder for every cursor: ``json.dumps`` with ``separators`` builds a
# new encoder on each call, which took a third of the time a cursor took.
_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"))


def iso_millis(moment: datetime) -> str:
    """A UTC timestamp as text that sorts the same way as the time it names.

    Always three decimals: what the stores keep and what the API writes.
    """
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last item's sort key and id.

    ``key`` is what ``TaskSort.key`` gives, or the creation time for
    projects.
    """

    key: str | int
    id: str

    def encode(self) -> str:
        raw = _CURSOR_JSON.encode([self.key, self.id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            key, id_ = json.loads(base64.urlsafe_b64decode(padded))
        except (ValueError, TypeError, binascii.Error) as error:
            raise InvalidInput(
                "The cursor is not one this service gave out.", field="cursor"
            ) from error
        if not isinstance(id_, str) or not isinstance(key, str | int):
            raise InvalidInput(
                "The cursor is not one this service gave out.", field="cursor"
            )
        return cls(key=key, id=id_)


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after: Cursor | None = None


@dataclass(frozen=True)
class TaskFilter:
    status: TaskStatus | None = None
    priority: Priority | None = None
    due_from: date | None = None
    due_to: date | None = None
    sort: TaskSort = TaskSort.CREATED


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items and the cursor to the next, None on the last."""

    items: Sequence[T]
    next_cursor: Cursor | None


# A listed item: an entity's public fields as JSON values (strings, numbers
# and None). Times are ``iso_millis`` text, as in every other answer.
Item = dict[str, Any]
# An item as JSON text, as the list pages carry it: the list routes write
# their items as they come, so a store that writes the JSON itself hands
# over one string a row instead of a value for every field.
ItemJson = str


def project_item(project: Project) -> Item:
    """A project as the project list shows it."""
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "created_at": iso_millis(project.created_at),
        "updated_at": iso_millis(project.updated_at),
    }


def task_item(task: Task) -> Item:
    """A task as a project's task list shows it."""
    return {
        "id": task.id,
        "project_id": task.project_id,
        "title": task.title,
        "description": task.description,
        "status": task.status.value,
        "priority": task.priority.value,
        "due_date": None if task.due_date is None else task.due_date.isoformat(),
        "created_at": iso_millis(task.created_at),
        "updated_at": iso_millis(task.updated_at),
    }
