"""What the storage adapters share about keyset pages and timestamps.

Every adapter reads one item more than the page holds to learn whether a
next page exists, and checks a client's cursor against the sort it is used
with, so a cursor from another list fails the same way in every store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Protocol, TypeVar

from tasks_api.domain.errors import InvalidInput
from tasks_api.domain.jobs import Job
from tasks_api.domain.listing import (
    UNDATED,
    Cursor,
    Page,
    TaskFilter,
    TaskSort,
    clamp_limit,
    iso_millis,
)


class _Identified(Protocol):
    id: str


class _Created(Protocol):
    created_at: datetime


T = TypeVar("T", bound=_Identified)
R = TypeVar("R")

# The stored field each task sort orders by; SQLite columns and MongoDB
# fields share these names.
SORT_FIELDS: dict[TaskSort, str] = {
    TaskSort.CREATED: "created_at",
    TaskSort.UPDATED: "updated_at",
    TaskSort.DUE: "due_sort",
    TaskSort.PRIORITY: "priority_rank",
}


def due_sort_range(where: TaskFilter) -> tuple[str, str] | None:
    """The ``due_sort`` bounds of a due-date filter, None when it has none.

    Filtering on ``due_sort`` rather than the due date itself lets the
    indexes that sort by due date serve the range too. Both bounds are
    real dates, so undated tasks (``UNDATED``) stay out, as they must.
    """
    if where.due_from is None and where.due_to is None:
        return None
    return (
        (where.due_from or date.min).isoformat(),
        (where.due_to or date.max).isoformat(),
    )


def fetch_size(limit: int) -> int:
    """How many rows to read for a page: the page size, plus one."""
    return clamp_limit(limit) + 1


def page_of(items: Sequence[T], limit: int, key: Callable[[T], str | int]) -> Page[T]:
    """A page of entities made from ``fetch_size(limit)`` read in order."""
    return page_of_rows(items, limit, lambda last: Cursor(key(last), last.id))


def page_of_rows(
    rows: Sequence[R], limit: int, cursor_of: Callable[[R], Cursor]
) -> Page[R]:
    """A page made from ``fetch_size(limit)`` rows read in order.

    ``cursor_of`` gives the next page's cursor from the last row shown.
    """
    size = clamp_limit(limit)
    if len(rows) <= size:
        return Page(items=list(rows), next_cursor=None)

    shown = list(rows[:size])
    return Page(items=shown, next_cursor=cursor_of(shown[-1]))


def created_key(item: _Created) -> str:
    """A project's or attachment's place in a list: its creation time."""
    return iso_millis(item.created_at)


def queued_key(job: Job) -> str:
    """A job's place in its task's list: the time it was queued."""
    return iso_millis(job.queued_at)


def timestamp_key(cursor: Cursor) -> str:
    """The cursor's key as ``iso_millis`` text; InvalidInput if not a time."""
    if isinstance(cursor.key, str):
        try:
            moment = datetime.fromisoformat(cursor.key)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return iso_millis(moment)
    raise _foreign(cursor)


def task_key(sort: TaskSort, cursor: Cursor) -> str | int:
    """The cursor's key checked against ``sort``; InvalidInput if foreign."""
    if sort in (TaskSort.CREATED, TaskSort.UPDATED):
        return timestamp_key(cursor)

    key = cursor.key
    if sort is TaskSort.PRIORITY:
        if isinstance(key, int) and not isinstance(key, bool):
            return key
        raise _foreign(cursor)

    if key == UNDATED:
        return UNDATED
    if isinstance(key, str):
        try:
            return date.fromisoformat(key).isoformat()
        except ValueError:
            pass
    raise _foreign(cursor)


def utc_millis(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time cut to milliseconds, as stores keep it.

    A naive time is taken to be UTC already: that is how MongoDB hands
    times back unless its client is told otherwise.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _foreign(cursor: Cursor) -> InvalidInput:
    return InvalidInput(
        "The cursor does not belong to this list or this sort order.",
        field="cursor",
    )
