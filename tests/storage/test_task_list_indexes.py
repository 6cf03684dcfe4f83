"""Filtered task lists are read from the indexes the migrations declare.

The contract suite checks what a filtered page holds; these tests check
how SQLite and MongoDB find it: priority and due dates are matched on the
derived fields the indexes hold (``priority_rank``, ``due_sort``), so a
filter narrows an index range instead of being checked row by row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date

import pytest

from tasks_api.adapters.storage import mongo, sqlite
from tasks_api.domain.listing import PageRequest, TaskFilter, TaskSort
from tasks_api.domain.model import Priority, TaskStatus
from tasks_api.migrations.loader import load

PAGE = PageRequest(limit=20)


@pytest.fixture(scope="module")
def plan(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[TaskFilter], str]]:
    """SQLite's query plan for a task list, on a freshly migrated file."""
    storage = sqlite.SqliteStorage(tmp_path_factory.mktemp("plans") / "tasks.db")
    storage.migrate()

    def explain(where: TaskFilter) -> str:
        sql, params = sqlite.task_list_query("owner", "project", where, PAGE)
        with storage.database.connection() as conn:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        return "; ".join(row["detail"] for row in rows)

    yield explain
    storage.close()


def test_sqlite_reads_a_status_and_priority_page_in_due_order_from_one_index(
    plan: Callable[[TaskFilter], str],
) -> None:
    found = plan(
        TaskFilter(status=TaskStatus.TODO, priority=Priority.HIGH, sort=TaskSort.DUE)
    )

    assert "tasks_by_project_status_priority_due" in found
    assert "priority_rank=?" in found
    assert "TEMP B-TREE" not in found


def test_sqlite_narrows_a_due_range_in_the_index(
    plan: Callable[[TaskFilter], str],
) -> None:
    found = plan(
        TaskFilter(
            status=TaskStatus.DONE,
            due_from=date(2024, 6, 1),
            due_to=date(2024, 6, 30),
            sort=TaskSort.DUE,
        )
    )

    assert "tasks_by_project_status_due" in found
    assert "due_sort>? AND due_sort<?" in found
    assert "TEMP B-TREE" not in found


# The key fields of every task index the MongoDB migrations declare.
MONGO_TASK_INDEXES = [
    [field for field, _ in index["keys"]]
    for migration in load("mongo", ".json")
    for index in json.loads(migration.text).get("tasks", [])
]


def _serves(keys: list[str], query: dict, order: list[tuple[str, int]]) -> bool:
    """Whether an index on ``keys`` finds the page by its equality fields and
    then returns it in ``order``: those fields first, in any order, then the
    sort field. ``owner_id`` is checked on the documents found: a project
    has one owner, so it narrows nothing.
    """
    equal = {
        field
        for field, value in query.items()
        if field != "owner_id" and not isinstance(value, dict)
    }
    sort_field = order[0][0]
    return set(keys[: len(equal)]) == equal and (
        sort_field in equal or keys[len(equal) : len(equal) + 1] == [sort_field]
    )


@pytest.mark.parametrize(
    ("status", "priority", "sort"),
    [
        (TaskStatus.TODO, Priority.HIGH, TaskSort.DUE),
        (TaskStatus.TODO, None, TaskSort.DUE),
        (TaskStatus.TODO, None, TaskSort.CREATED),
        (None, Priority.LOW, TaskSort.PRIORITY),
        *[(None, None, sort) for sort in TaskSort],
    ],
)
def test_mongo_has_an_index_for_each_common_filtered_list(
    status: TaskStatus | None, priority: Priority | None, sort: TaskSort
) -> None:
    where = TaskFilter(status=status, priority=priority, sort=sort)
    query, order = mongo.task_list_query("owner", "project", where, PAGE)

    assert any(_serves(keys, query, order) for keys in MONGO_TASK_INDEXES), query


def test_mongo_matches_priority_and_due_dates_on_their_indexed_fields() -> None:
    where = TaskFilter(
        priority=Priority.MEDIUM, due_from=date(2024, 6, 1), sort=TaskSort.DUE
    )
    query, _ = mongo.task_list_query("owner", "project", where, PAGE)

    assert query["priority_rank"] == Priority.MEDIUM.rank
    assert query["due_sort"] == {"$gte": "2024-06-01", "$lte": date.max.isoformat()}
    assert "priority" not in query and "due_date" not in query
