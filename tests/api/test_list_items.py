"""The list routes' items, written as JSON, equal what the schemas would dump."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from tasks_api.domain.listing import project_item, task_item
from tasks_api.domain.model import Priority, Project, Task, TaskStatus
from tasks_api.entrypoints.http.json_provider import to_json
from tasks_api.entrypoints.http.schemas import ProjectSchema, TaskSchema

text = st.text(max_size=40)
# Times as the domain makes them, to the millisecond; whole seconds too,
# whose fraction of zero must still be written.
moments = st.datetimes(min_value=datetime(1970, 1, 1), timezones=st.just(UTC)).flatmap(
    lambda moment: st.sampled_from(
        [
            moment.replace(microsecond=moment.microsecond // 1000 * 1000),
            moment.replace(microsecond=0),
        ]
    )
)


def written(item: dict) -> dict:
    """An item as the API's JSON provider writes it, read back."""
    return json.loads(to_json(item))


@given(name=text, description=text, created=moments, updated=moments)
def test_a_project_item_is_the_project_schemas_dump(
    name: str, description: str, created: datetime, updated: datetime
) -> None:
    project = Project(
        owner_id="o",
        name=name,
        description=description,
        created_at=created,
        updated_at=updated,
    )

    assert written(project_item(project)) == ProjectSchema().dump(project)


@given(
    title=text,
    status=st.sampled_from(TaskStatus),
    priority=st.sampled_from(Priority),
    due=st.none() | st.dates(min_value=date(1900, 1, 1)),
    created=moments,
)
def test_a_task_item_is_the_task_schemas_dump(
    title: str,
    status: TaskStatus,
    priority: Priority,
    due: date | None,
    created: datetime,
) -> None:
    task = Task(
        owner_id="o",
        project_id="p",
        title=title,
        status=status,
        priority=priority,
        due_date=due,
        created_at=created,
        updated_at=created,
    )

    assert written(task_item(task)) == TaskSchema().dump(task)
