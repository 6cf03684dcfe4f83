"""List views made from the repositories' entity pages.

The in-memory store and MongoDB answer the list routes this way: each page
is read as entities, as the repositories read it, and each entity is then
made an item and written as JSON. SQLite rows keep their items as JSON
instead (``SqliteListViews``), which matters most there: it is the store
of the embedded service.
"""

from __future__ import annotations

import orjson

from tasks_api.domain.listing import (
    Item,
    ItemJson,
    Page,
    PageRequest,
    TaskFilter,
    project_item,
    task_item,
)
from tasks_api.ports.storage import ListViews, ProjectRepository, TaskRepository


def item_json(item: Item) -> ItemJson:
    """An item as JSON text."""
    return orjson.dumps(item).decode()


class EntityListViews(ListViews):
    def __init__(self, projects: ProjectRepository, tasks: TaskRepository) -> None:
        self._projects = projects
        self._tasks = tasks

    def projects(self, owner_id: str, page: PageRequest) -> Page[ItemJson]:
        found = self._projects.list(owner_id, page)
        items = [item_json(project_item(project)) for project in found.items]
        return Page(items, found.next_cursor)

    def tasks(
        self, owner_id: str, project_id: str, where: TaskFilter, page: PageRequest
    ) -> Page[ItemJson]:
        found = self._tasks.list(owner_id, project_id, where, page)
        items = [item_json(task_item(task)) for task in found.items]
        return Page(items, found.next_cursor)
