"""A user's projects."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from tasks_api.domain.model import Project
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
    PageQuerySchema,
    ProjectPageSchema,
    ProjectPatchSchema,
    ProjectSchema,
)

blp = Blueprint(
    "projects", __name__, url_prefix="/api/v1/projects", description="Projects."
)


@blp.route("")
class Projects(MethodView):
    @protected(blp)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, ProjectPageSchema)
    def get(self, args: dict) -> Response:
        """List your projects, newest first."""
        page = page_request(args)
        found = container().projects().list(current_user().id, page)
        return page_response(found, page.limit)

    @protected(blp)
    @blp.arguments(ProjectSchema())
    @blp.response(201, ProjectSchema)
    def post(self, body: dict) -> Project:
        """Create a project."""
        return container().projects().create(current_user().id, **body)


@blp.route("/<project_id>")
class ProjectById(MethodView):
    @protected(blp)
    @blp.response(200, ProjectSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such project of yours.")
    def get(self, project_id: str) -> Project:
        """Read a project."""
        return container().projects().get(current_user().id, project_id)

    @protected(blp)
    @blp.arguments(ProjectSchema())
    @blp.response(200, ProjectSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such project of yours.")
    def put(self, body: dict, project_id: str) -> Project:
        """Replace a project's name and description."""
        return container().projects().update(current_user().id, project_id, body)

    @protected(blp)
    @blp.arguments(ProjectPatchSchema())
    @blp.response(200, ProjectSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such project of yours.")
    def patch(self, body: dict, project_id: str) -> Project:
        """Change some of a project's fields."""
        return container().projects().update(current_user().id, project_id, body)

    @protected(blp)
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="No such project of yours.")
    def delete(self, project_id: str) -> None:
        """Delete a project with all its tasks, their attachments and jobs."""
        container().projects().delete(current_user().id, project_id)
