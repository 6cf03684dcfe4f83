"""Listing a project's tasks: who may, and what an empty page means."""

from __future__ import annotations

import json

import pytest

from tasks_api.adapters.storage.memory import InMemoryStorage
from tasks_api.domain.errors import NotFound
from tasks_api.domain.listing import PageRequest, TaskFilter
from tasks_api.domain.model import Project
from tasks_api.usecases.tasks import TaskService


@pytest.fixture
def storage() -> InMemoryStorage:
    return InMemoryStorage()


@pytest.fixture
def tasks(storage: InMemoryStorage) -> TaskService:
    return TaskService(storage, remove_task_contents=lambda task_ids: None)


def _project(storage: InMemoryStorage, owner_id: str) -> str:
    project = Project(owner_id=owner_id, name="Garden")
    storage.projects.add(project)
    return project.id


def test_the_owner_lists_the_tasks(
    storage: InMemoryStorage, tasks: TaskService
) -> None:
    project_id = _project(storage, "alice")
    made = tasks.create("alice", project_id, "Plant the beans")

    page = tasks.list("alice", project_id, TaskFilter(), PageRequest())

    assert [json.loads(task)["id"] for task in page.items] == [made.id]


def test_an_empty_project_of_ones_own_is_an_empty_page(
    storage: InMemoryStorage, tasks: TaskService
) -> None:
    project_id = _project(storage, "alice")

    page = tasks.list("alice", project_id, TaskFilter(), PageRequest())

    assert page.items == []


def test_someone_elses_project_with_tasks_is_not_found(
    storage: InMemoryStorage, tasks: TaskService
) -> None:
    project_id = _project(storage, "alice")
    tasks.create("alice", project_id, "Plant the beans")

    with pytest.raises(NotFound):
        tasks.list("mallory", project_id, TaskFilter(), PageRequest())


def test_a_project_that_is_not_there_is_not_found(tasks: TaskService) -> None:
    with pytest.raises(NotFound):
        tasks.list("alice", "no-such-project", TaskFilter(), PageRequest())
