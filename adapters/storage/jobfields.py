"""Which job fields a compare-and-set may change, checked alike everywhere."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tasks_api.adapters.storage.keyset import utc_millis
from tasks_api.domain.jobs import Job, JobStage, JobStatus

# What a job is about never changes; everything else moves with it.
FIXED_FIELDS = frozenset({"id", "owner_id", "task_id", "attachment_id"})
CHANGEABLE_FIELDS = (
    frozenset(field.name for field in dataclasses.fields(Job)) - FIXED_FIELDS
)
TIME_FIELDS = ("queued_at", "started_at", "finished_at", "heartbeat_at", "due_at")


def checked_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes with enums made whole and times cut as stores keep them.

    A field outside ``CHANGEABLE_FIELDS`` is a programming error and raises
    ``ValueError`` before anything is written.
    """
    unknown = set(changes) - CHANGEABLE_FIELDS
    if unknown:
        raise ValueError(f"job fields that cannot change: {sorted(unknown)}")

    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if value is not None and name == "status":
            value = JobStatus(value)
        elif value is not None and name == "stage":
            value = JobStage(value)
        elif isinstance(value, datetime):
            value = utc_millis(value)
        checked[name] = value
    return checked
