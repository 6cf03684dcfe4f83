"""The entities of the service.

Entities are plain dataclasses; storage adapters turn them into rows or
documents and back. Ids are opaque strings made by ``new_id``.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime


def new_id() -> str:
    """A fresh random id, 32 hex characters."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    """The current time, timezone-aware, truncated to milliseconds.

    Milliseconds are what MongoDB keeps, so every store round-trips the
    same value.
    """
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class TaskStatus(enum.StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Priority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Sort rank: low < medium < high."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2}


@dataclass
class User:
    email: str
    name: str
    password_hash: str
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    # Raised by logout and password change; tokens carry the version they
    # were issued under and stop working once it moves on.
    token_version: int = 0


@dataclass
class Project:
    owner_id: str
    name: str
    description: str = ""
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass
class Task:
    owner_id: str
    project_id: str
    title: str
    description: str = ""
    status: TaskStatus = TaskStatus.TODO
    priority: Priority = Priority.MEDIUM
    due_date: date | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
