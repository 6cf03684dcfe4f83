"""Files attached to tasks, and the jobs that read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import marshmallow as ma
from flask import Request, redirect, request, send_file
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import UnsupportedMediaType

from tasks_api.domain.jobs import Attachment, Job
from tasks_api.entrypoints.http.common import (
    Blueprint,
    container,
    current_user,
    page_body,
    page_request,
    protected,
)
from tasks_api.entrypoints.http.errors import ErrorSchema
from tasks_api.entrypoints.http.schemas import (
    AttachmentPageSchema,
    AttachmentSchema,
    JobPageSchema,
    JobSchema,
    PageQuerySchema,
    UploadResultSchema,
    UploadSchema,
)
from tasks_api.usecases.attachments import Upload


class UploadBlueprint(Blueprint):
    """A Blueprint that documents the "multipart" location as one form body."""

    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


MULTIPART_ONLY = (
    "Send the file as multipart/form-data, in a field named file "
    "(curl -F file=@scan.pdf)."
)


@UploadBlueprint.ARGUMENTS_PARSER.location_loader("multipart")
def _form_and_files(request: Request, schema: ma.Schema) -> MultiDictProxy:
    """A multipart body's fields and files, read as one set of arguments.

    A body of another type is a 415, as a JSON route's is, rather than a
    form with no file in it.
    """
    if request.content_length and request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(MULTIPART_ONLY)
    return MultiDictProxy(CombinedMultiDict([request.form, request.files]), schema)


blp = UploadBlueprint(
    "attachments",
    __name__,
    url_prefix="/api/v1",
    description="Attachments and the jobs that read their text.",
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
_UPLOAD_ERRORS = {
    404: "No such task of yours.",
    409: "The Idempotency-Key belongs to an upload that did not complete.",
    413: "The file is over the size limit.",
    415: "The file is not of a type the service reads, or the body is not "
    "multipart/form-data.",
    422: "The language is not installed, the file is empty, or the form is invalid.",
    429: "Too many of your files are being processed already.",
}


def _upload(form: dict, task_id: str) -> tuple[Upload, int]:
    key = request.headers.get(IDEMPOTENCY_HEADER) or None
    attachments = container().attachments()
    upload = attachments.upload(
        current_user().id,
        task_id,
        filename=form["file"].filename or "upload",
        stream=form["file"].stream,
        language=form["language"],
        idempotency_key=key[:200] if key else None,
    )
    return upload, 200 if upload.replayed else 202


def _documented_upload(view: Callable[..., Any]) -> Callable[..., Any]:
    """The OpenAPI description both upload paths share."""
    view = blp.arguments(UploadSchema(), location="multipart")(view)
    view = blp.response(202, UploadResultSchema)(view)
    view = blp.alt_response(
        200,
        schema=UploadResultSchema,
        description="A replay of an upload with the same Idempotency-Key.",
    )(view)
    for status, description in _UPLOAD_ERRORS.items():
        view = blp.alt_response(status, schema=ErrorSchema, description=description)(
            view
        )
    return blp.doc(
        parameters=[
            {
                "in": "header",
                "name": IDEMPOTENCY_HEADER,
                "schema": {"type": "string", "maxLength": 200},
                "description": "Retrying with the same key returns the first "
                "upload instead of creating another.",
            }
        ]
    )(view)


@blp.route("/tasks/<task_id>/attachments")
class TaskAttachments(MethodView):
    @protected(blp)
    @_documented_upload
    def post(self, form: dict, task_id: str) -> tuple[Upload, int]:
        """Attach a file to a task and start reading it."""
        return _upload(form, task_id)

    @protected(blp)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, AttachmentPageSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task of yours.")
    def get(self, args: dict, task_id: str) -> dict:
        """List a task's attachments, newest first."""
        page = page_request(args)
        found = container().attachments().list_by_task(current_user().id, task_id, page)
        return page_body(found, page.limit)


@blp.route("/projects/<task_id>/attachments")
class LegacyTaskAttachments(MethodView):
    @protected(blp)
    @blp.doc(deprecated=True)
    @_documented_upload
    def post(self, form: dict, task_id: str) -> tuple[Upload, int]:
        """Attach a file to a task (the original path; prefer /tasks/...)."""
        return _upload(form, task_id)


@blp.route("/attachments/<attachment_id>")
class AttachmentById(MethodView):
    @protected(blp)
    @blp.response(200, AttachmentSchema)
    @blp.alt_response(
        404, schema=ErrorSchema, description="No such attachment of yours."
    )
    def get(self, attachment_id: str) -> Attachment:
        """Read an attachment's details."""
        return container().attachments().get(current_user().id, attachment_id)

    @protected(blp)
    @blp.response(204)
    @blp.alt_response(
        404, schema=ErrorSchema, description="No such attachment of yours."
    )
    def delete(self, attachment_id: str) -> None:
        """Delete an attachment and its file; its job is stopped and removed."""
        container().attachments().delete(current_user().id, attachment_id)


@blp.route("/attachments/<attachment_id>/download")
class AttachmentDownload(MethodView):
    @protected(blp)
    @blp.response(
        200, description="The file's bytes.", content_type="application/octet-stream"
    )
    @blp.alt_response(302, description="A redirect to a short-lived signed URL.")
    @blp.alt_response(
        404, schema=ErrorSchema, description="No such attachment of yours."
    )
    def get(self, attachment_id: str) -> ResponseReturnValue:
        """Download the file as it was uploaded."""
        found = container().attachments().download(current_user().id, attachment_id)
        if found.url is not None:
            return redirect(found.url, code=302)

        response = send_file(
            found.stream,
            mimetype=found.attachment.media_type,
            as_attachment=True,
            download_name=found.attachment.filename,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@blp.route("/jobs/<job_id>")
class JobById(MethodView):
    @protected(blp)
    @blp.response(200, JobSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such job of yours.")
    def get(self, job_id: str) -> Job:
        """Read a job: status, stage, progress, and its text and summary once known."""
        return container().jobs().get(current_user().id, job_id)


@blp.route("/jobs/<job_id>/cancel")
class JobCancel(MethodView):
    @protected(blp)
    @blp.response(200, JobSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such job of yours.")
    @blp.alt_response(
        409, schema=ErrorSchema, description="The job already succeeded or failed."
    )
    def delete(self, job_id: str) -> Job:
        """Cancel a job: at once if queued, at its next checkpoint if running."""
        return container().jobs().cancel(current_user().id, job_id)


@blp.route("/tasks/<task_id>/jobs")
class TaskJobs(MethodView):
    @protected(blp)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, JobPageSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task of yours.")
    def get(self, args: dict, task_id: str) -> dict:
        """List a task's jobs, newest first, without their text."""
        page = page_request(args)
        found = container().jobs().list_by_task(current_user().id, task_id, page)
        return page_body(found, page.limit)
