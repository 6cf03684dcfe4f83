"""Request and response schemas shared by the blueprints.

Every input schema raises on unknown fields (marshmallow's default), and
fields the server owns are ``dump_only``, so a client that sends an ``id``
or a timestamp gets a 422 naming it instead of a silent no-op.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate
from werkzeug.datastructures import FileStorage

from tasks_api.domain.jobs import Job, JobStage, JobStatus
from tasks_api.domain.listing import MAX_LIMIT, TaskSort, iso_millis
from tasks_api.domain.model import Priority, TaskStatus


class Timestamp(ma.fields.DateTime):
    """A time written with exactly three decimals, in UTC: what is stored.

    Every store keeps milliseconds, so this is the whole value, and the
    text has one width whatever the time: ``isoformat()`` would leave out a
    fraction of zero and pad the rest to six digits. The list pages write
    their times the same way (``iso_millis``), straight from storage.
    """

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else iso_millis(value)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


class PageQuerySchema(ma.Schema):
    limit = ma.fields.Integer(
        validate=validate.Range(min=1),
        metadata={
            "description": f"Items per page; values above {MAX_LIMIT} "
            f"are lowered to {MAX_LIMIT}."
        },
    )
    cursor = ma.fields.String(
        validate=validate.Length(max=512),
        metadata={"description": "The `next_cursor` of the previous page."},
    )


class PageSchema(ma.Schema):
    next_cursor = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Pass as `cursor` for the next page; null on the last."
        },
    )
    limit = ma.fields.Integer()


# -- auth -------------------------------------------------------------------


class RegisterSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=8, max=1024),
    )
    name = ma.fields.String(
        required=True, validate=[validate.Length(min=1, max=200), _not_blank]
    )


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(max=1024)
    )


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(max=1024)
    )
    new_password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(min=8, max=1024)
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Seconds until the token expires."}
    )


class UserSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)


# -- projects ---------------------------------------------------------------

_PROJECT_NAME = [validate.Length(min=1, max=200), _not_blank]
_DESCRIPTION = validate.Length(max=10_000)


class ProjectSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    name = ma.fields.String(required=True, validate=_PROJECT_NAME)
    description = ma.fields.String(load_default="", validate=_DESCRIPTION)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class ProjectPatchSchema(ma.Schema):
    name = ma.fields.String(validate=_PROJECT_NAME)
    description = ma.fields.String(validate=_DESCRIPTION)


class ProjectPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ProjectSchema), required=True)


# The list routes answer with the JSON items of the storage's list views
# (written as ``project_item`` and ``task_item`` in domain/listing.py say),
# past marshmallow: dumping twenty items cost about 300 microseconds a page,
# more than the query. These schemas still document the answers, and a
# test checks the items against their dumps.


# -- tasks ------------------------------------------------------------------

_TITLE = [validate.Length(min=1, max=500), _not_blank]


class TaskSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    project_id = ma.fields.String(dump_only=True)
    title = ma.fields.String(required=True, validate=_TITLE)
    description = ma.fields.String(load_default="", validate=_DESCRIPTION)
    status = ma.fields.Enum(TaskStatus, by_value=True, load_default=TaskStatus.TODO)
    priority = ma.fields.Enum(Priority, by_value=True, load_default=Priority.MEDIUM)
    due_date = ma.fields.Date(allow_none=True, load_default=None)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class TaskPatchSchema(ma.Schema):
    title = ma.fields.String(validate=_TITLE)
    description = ma.fields.String(validate=_DESCRIPTION)
    status = ma.fields.Enum(TaskStatus, by_value=True)
    priority = ma.fields.Enum(Priority, by_value=True)
    due_date = ma.fields.Date(allow_none=True)


class TaskQuerySchema(PageQuerySchema):
    status = ma.fields.Enum(TaskStatus, by_value=True)
    priority = ma.fields.Enum(Priority, by_value=True)
    due_from = ma.fields.Date(
        metadata={"description": "Only tasks due on or after this day."}
    )
    due_to = ma.fields.Date(
        metadata={"description": "Only tasks due on or before this day."}
    )
    sort = ma.fields.Enum(
        TaskSort,
        by_value=True,
        load_default=TaskSort.CREATED,
        metadata={
            "description": "created and updated: newest first; priority: "
            "highest first; due: soonest first, undated last."
        },
    )

    @ma.validates_schema
    def _due_range_is_ordered(self, data: dict, **_: object) -> None:
        if (
            "due_from" in data
            and "due_to" in data
            and data["due_from"] > data["due_to"]
        ):
            raise ma.ValidationError("Must not be before due_from.", "due_to")


class TaskPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(TaskSchema), required=True)


# -- attachments and jobs ---------------------------------------------------


class FilePart(Upload):
    """An ``Upload`` that must be a file part, not a plain form field."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Send the file as a file part of the form.")
        return value


class UploadSchema(ma.Schema):
    """A multipart/form-data upload: the file and the OCR language."""

    file = FilePart(required=True, metadata={"description": "The file to read."})
    language = ma.fields.String(
        load_default="eng",
        validate=validate.Length(max=80),
        metadata={
            "description": "Tesseract language codes joined by +, such as "
            "eng or eng+deu."
        },
    )


class AttachmentSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    task_id = ma.fields.String(dump_only=True)
    project_id = ma.fields.String(dump_only=True)
    filename = ma.fields.String(dump_only=True)
    media_type = ma.fields.String(dump_only=True)
    size = ma.fields.Integer(dump_only=True)
    language = ma.fields.String(dump_only=True)
    job_id = ma.fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)


class JobErrorSchema(ma.Schema):
    code = ma.fields.String()
    message = ma.fields.String()


class JobSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    task_id = ma.fields.String(dump_only=True)
    attachment_id = ma.fields.String(dump_only=True)
    status = ma.fields.Enum(JobStatus, by_value=True, dump_only=True)
    stage = ma.fields.Enum(JobStage, by_value=True, allow_none=True, dump_only=True)
    progress = ma.fields.Integer(dump_only=True, metadata={"description": "0 to 100."})
    pages_done = ma.fields.Integer(dump_only=True)
    pages_total = ma.fields.Integer(dump_only=True)
    error = ma.fields.Method("_error", allow_none=True, dump_only=True)
    text = ma.fields.String(allow_none=True, dump_only=True)
    summary = ma.fields.String(allow_none=True, dump_only=True)
    attempts = ma.fields.Integer(dump_only=True)
    cancel_requested = ma.fields.Boolean(dump_only=True)
    queued_at = Timestamp(dump_only=True)
    started_at = Timestamp(allow_none=True, dump_only=True)
    finished_at = Timestamp(allow_none=True, dump_only=True)

    def _error(self, job: Job) -> dict | None:
        if job.error_code is None:
            return None
        return {"code": job.error_code, "message": job.error_message}


class UploadResultSchema(ma.Schema):
    attachment = ma.fields.Nested(AttachmentSchema, required=True)
    job = ma.fields.Nested(JobSchema, required=True)


class AttachmentPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True)


class JobListedSchema(JobSchema):
    """A job in a list: everything but its text, which can be long."""

    class Meta:
        exclude = ("text",)


class JobPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(JobListedSchema), required=True)
