"""The list pages' hand-written JSON equals what the schemas would dump."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from tasks_api.domain.model import Priority, Project, Task, TaskStatus
from tasks_api.entrypoints.http.schemas import (
    ProjectSchema,
    TaskSchema,
    project_json,
    task_json,
)

text = st.text(max_size=40)


@given(name=text, description=text)
def test_project_json_is_the_project_schemas_dump(name: str, description: str) -> None:
    project = Project(owner_id="o", name=name, description=description)

    assert project_json(project) == ProjectSchema().dump(project)


@given(
    title=text,
    status=st.sampled_from(TaskStatus),
    priority=st.sampled_from(Priority),
    due=st.none() | st.dates(min_value=date(1900, 1, 1)),
)
def test_task_json_is_the_task_schemas_dump(
    title: str, status: TaskStatus, priority: Priority, due: date | None
) -> None:
    task = Task(
        owner_id="o",
        project_id="p",
        title=title,
        status=status,
        priority=priority,
        due_date=due,
    )

    assert task_json(task) == TaskSchema().dump(task)
