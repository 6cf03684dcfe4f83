"""The tasks of a project."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from tasks_api.domain.listing import TaskFilter
from tasks_api.domain.model import Task
from tasks_api.entrypoints.http.common import (
    Blueprint,
    container,
    current_user,
    page_request,
    page_response,
    protected,
)
from tasks_api.entrypoints.http.errors import ErrorSchema
from tasks_api.entrypoints.http.schemas import (
    TaskPageSchema,
    TaskPatchSchema,
    TaskQuerySchema,
    TaskSchema,
)

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="Tasks.")

FILTER_FIELDS = ("status", "priority", "due_from", "due_to", "sort")


@blp.route("/projects/<project_id>/tasks")
class ProjectTasks(MethodView):
    @protected(blp)
    @blp.arguments(TaskQuerySchema(), location="query")
    @blp.response(200, TaskPageSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such project of yours.")
    def get(self, args: dict, project_id: str) -> Response:
        """List a project's tasks, filtered and sorted."""
        where = TaskFilter(**{k: args[k] for k in FILTER_FIELDS if k in args})
        page = page_request(args)

        found = container().tasks().list(current_user().id, project_id, where, page)
        return page_response(found, page.limit)

    @protected(blp)
    @blp.arguments(TaskSchema())
    @blp.response(201, TaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such project of yours.")
    def post(self, body: dict, project_id: str) -> Task:
        """Create a task in a project."""
        return container().tasks().create(current_user().id, project_id, **body)


@blp.route("/tasks/<task_id>")
class TaskById(MethodView):
    @protected(blp)
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task of yours.")
    def get(self, task_id: str) -> Task:
        """Read a task."""
        return container().tasks().get(current_user().id, task_id)

    @protected(blp)
    @blp.arguments(TaskSchema())
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task of yours.")
    def put(self, body: dict, task_id: str) -> Task:
        """Replace every field of a task; fields left out take their defaults."""
        return container().tasks().update(current_user().id, task_id, body)

    @protected(blp)
    @blp.arguments(TaskPatchSchema())
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task of yours.")
    def patch(self, body: dict, task_id: str) -> Task:
        """Change some of a task's fields."""
        return container().tasks().update(current_user().id, task_id, body)

    @protected(blp)
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task of yours.")
    def delete(self, task_id: str) -> None:
        """Delete a task with its attachments and jobs."""
        container().tasks().delete(current_user().id, task_id)
