"""The list views give each store's entity pages as JSON items, cursors and all."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage.test_contract import add_project, add_task

from tasks_api.domain.listing import (
    Cursor,
    PageRequest,
    TaskFilter,
    TaskSort,
    project_item,
    task_item,
)
from tasks_api.domain.model import Priority, TaskStatus, User
from tasks_api.ports.storage import Storage

# A whole second, so that some times have a fraction of zero, which the
# views must still write.
WHOLE_SECOND = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
milliseconds = st.sampled_from([0, 1, 120, 999]).map(
    lambda ms: WHOLE_SECOND + timedelta(milliseconds=ms)
)
# Any text: quotes, backslashes, control characters and the like must come
# through the stores' JSON as they went in.
texts = st.text(max_size=12)


def read(items: Sequence[str]) -> list[dict]:
    """JSON items read back, each required to be a JSON object on its own."""
    return [json.loads(item) for item in items]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    specs=st.lists(
        st.tuples(
            texts,
            st.sampled_from(list(Priority)),
            st.sampled_from(list(TaskStatus)),
            st.sampled_from([None, date(2024, 6, 1), date(1999, 12, 31)]),
            milliseconds,
            milliseconds,
        ),
        max_size=9,
    ),
    sort=st.sampled_from(list(TaskSort)),
    status=st.sampled_from([None, *TaskStatus]),
    limit=st.integers(min_value=1, max_value=4),
)
def test_task_view_pages_are_the_task_pages_as_items(
    storage: Storage,
    owner: User,
    specs: list[tuple[str, Priority, TaskStatus, date | None, datetime, datetime]],
    sort: TaskSort,
    status: TaskStatus | None,
    limit: int,
) -> None:
    project = add_project(storage, owner)
    for title, priority, task_status, due, created, updated in specs:
        add_task(
            storage,
            project,
            title=title,
            description=title * 3,
            priority=priority,
            status=task_status,
            due_date=due,
            created_at=created,
            updated_at=updated,
        )
    where = TaskFilter(status=status, sort=sort)

    after: Cursor | None = None
    while True:
        page = PageRequest(limit, after)
        entities = storage.tasks.list(owner.id, project.id, where, page)
        items = storage.views.tasks(owner.id, project.id, where, page)

        assert read(items.items) == [task_item(task) for task in entities.items]
        assert items.next_cursor == entities.next_cursor
        if items.next_cursor is None:
            break
        after = items.next_cursor


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    made=st.lists(st.tuples(texts, milliseconds, milliseconds), max_size=7),
    limit=st.integers(min_value=1, max_value=3),
)
def test_project_view_pages_are_the_project_pages_as_items(
    storage: Storage,
    owner: User,
    made: list[tuple[str, datetime, datetime]],
    limit: int,
) -> None:
    for name, created, updated in made:
        add_project(
            storage,
            owner,
            created_at=created,
            name=name or "Project",
            description=name,
            updated_at=updated,
        )

    after: Cursor | None = None
    while True:
        page = PageRequest(limit, after)
        entities = storage.projects.list(owner.id, page)
        items = storage.views.projects(owner.id, page)

        assert read(items.items) == [
            project_item(project) for project in entities.items
        ]
        assert items.next_cursor == entities.next_cursor
        if items.next_cursor is None:
            break
        after = items.next_cursor


def test_views_list_only_the_owners_things(storage: Storage, owner: User) -> None:
    project = add_project(storage, owner)
    add_task(storage, project)
    stranger = "someone-else"

    everything = (TaskFilter(), PageRequest())

    assert storage.views.projects(stranger, PageRequest()).items == []
    assert storage.views.tasks(stranger, project.id, *everything).items == []
    assert len(storage.views.tasks(owner.id, project.id, *everything).items) == 1


def test_views_show_what_an_update_changed(storage: Storage, owner: User) -> None:
    project = add_project(storage, owner)
    task = add_task(storage, project, due_date=date(2024, 6, 1))
    later = WHOLE_SECOND + timedelta(days=1, milliseconds=5)

    renamed = replace(
        project, name='Quoted "name"', description="new", updated_at=later
    )
    storage.projects.update(renamed)
    done = replace(
        task,
        title="Done\nat last",
        status=TaskStatus.DONE,
        priority=Priority.HIGH,
        due_date=None,
        updated_at=later,
    )
    storage.tasks.update(done)

    everything = (TaskFilter(), PageRequest())
    assert read(storage.views.projects(owner.id, PageRequest()).items) == [
        project_item(renamed)
    ]
    assert read(storage.views.tasks(owner.id, project.id, *everything).items) == [
        task_item(done)
    ]
