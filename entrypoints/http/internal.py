"""Routes only workers call, guarded by the ``x-worker-secret`` header.

These are the API side of ``HttpJobGateway``: a worker on another machine
holds no database or LLM credentials and reports everything here.

    POST /api/v1/webhooks/file-processed         {job_id, text}: store the text read
    POST /api/v1/webhooks/summary-ready          {job_id, summary}: finish the job
    POST /api/v1/ai/summarize                    {job_id, text} -> {summary};
                                                 404 unless the job is running
    GET  /api/v1/jobs/<id>/check-cancel          -> {cancel}
    POST /api/v1/internal/jobs/<id>/claim        -> ticket, or 409 not_claimable
    POST /api/v1/internal/jobs/<id>/progress     {stage, pages_done, pages_total}
    POST /api/v1/internal/jobs/<id>/heartbeat    the worker is still on the job
    POST /api/v1/internal/jobs/<id>/failed       {code, message}
    POST /api/v1/internal/jobs/<id>/cancelled    acknowledge a cancel
    POST /api/v1/internal/jobs/<id>/retry        {reason, delay_seconds}
    GET  /api/v1/internal/jobs/<id>/file         the upload, or 302 to a signed URL

A plain Flask blueprint, not a flask-smorest one, so none of it appears in
the public OpenAPI document. A missing, wrong or non-ASCII secret answers
401, and so does a bad ``x-worker-signature`` (see ``signing.py``) when
one is sent or REQUIRE_WORKER_SIGNATURE is set. With no WORKER_SECRET
(the embedded mode, which has no remote workers) every route answers 404.
Errors use the API's one JSON shape; a summarizer's passing fault is 503
with Retry-After, a document it cannot summarize is 422 with its code.
"""

from __future__ import annotations

import hmac
import logging
import math
from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, jsonify, redirect, request, send_file
from flask.typing import ResponseReturnValue

from tasks_api.adapters.gateway.signing import (
    SIGNATURE_HEADER,
    SignatureRefused,
    verify,
)
from tasks_api.domain.errors import JobCancelled, TransientFailure, UnreadableDocument
from tasks_api.domain.jobs import JobStage
from tasks_api.entrypoints.http.common import container
from tasks_api.entrypoints.http.errors import error_body

log = logging.getLogger(__name__)

WORKER_SECRET_HEADER = "x-worker-secret"  # noqa: S105 - a header name
# The OCR text of a long document travels in one body: 300 pages are a
# few megabytes of JSON, far above an upload-sized limit's spare room.
MAX_BODY_BYTES = 64 * 1024 * 1024
PREFIX = "/api/v1"
JOBS = f"{PREFIX}/internal/jobs/<job_id>"

blp = Blueprint("internal", __name__)


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class FileProcessedSchema(_Strict):
    job_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    text = ma.fields.String(required=True)


class SummaryReadySchema(_Strict):
    job_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    summary = ma.fields.String(required=True)


class SummarizeSchema(_Strict):
    job_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    text = ma.fields.String(required=True)


class ProgressSchema(_Strict):
    stage = ma.fields.Enum(JobStage, by_value=True, required=True)
    pages_done = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=0)
    )
    pages_total = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=0)
    )


class FailedSchema(_Strict):
    code = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    message = ma.fields.String(required=True, validate=ma.validate.Length(1, 2000))


class RetrySchema(_Strict):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(max=2000))
    delay_seconds = ma.fields.Float(
        required=True, validate=ma.validate.Range(min=0, max=7 * 24 * 3600)
    )


@blp.before_request
def _require_worker_secret() -> ResponseReturnValue | None:
    settings = container().settings()
    if not settings.worker_secret:
        return _error(404, "not_found", "No such route.")

    # During a rotation both the new and the previous secret are accepted.
    secrets = [
        s for s in (settings.worker_secret, settings.worker_secret_previous) if s
    ]
    given = request.headers.get(WORKER_SECRET_HEADER, "")
    given_bytes = given.encode("ascii") if given.isascii() else b""
    if not given_bytes or not any(
        hmac.compare_digest(given_bytes, secret.encode()) for secret in secrets
    ):
        log.warning(
            "Refused a worker call to %s: missing or wrong worker secret.",
            request.path,
        )
        return _error(401, "unauthenticated", "A valid worker secret is required.")

    request.max_content_length = MAX_BODY_BYTES
    signature = request.headers.get(SIGNATURE_HEADER)
    if signature is None and not settings.require_worker_signature:
        return None
    try:
        verify(
            signature or "",
            secrets,
            request.method,
            _signed_path(),
            request.get_data(cache=True),
            container().replay_guard(),
        )
    except SignatureRefused as refused:
        log.warning("Refused a worker call to %s: %s", request.path, refused)
        return _error(401, "unauthenticated", str(refused))
    return None


def _signed_path() -> str:
    query = request.query_string.decode("ascii", "replace")
    return f"{request.path}?{query}" if query else request.path


@blp.errorhandler(UnreadableDocument)
def _unreadable(error: UnreadableDocument) -> ResponseReturnValue:
    return _error(422, error.code, error.message)


@blp.errorhandler(JobCancelled)
def _not_running(error: JobCancelled) -> ResponseReturnValue:
    return _error(404, "not_running", error.message)


@blp.errorhandler(TransientFailure)
def _transient(error: TransientFailure) -> ResponseReturnValue:
    response, status = _error(503, "unavailable", error.message)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(0, math.ceil(error.retry_after)))
    return response, status


@blp.post(f"{PREFIX}/webhooks/file-processed")
def file_processed() -> ResponseReturnValue:
    body = _load(FileProcessedSchema())
    _lifecycle().file_processed(body["job_id"], body["text"])
    return _done()


@blp.post(f"{PREFIX}/webhooks/summary-ready")
def summary_ready() -> ResponseReturnValue:
    body = _load(SummaryReadySchema())
    _lifecycle().summary_ready(body["job_id"], body["summary"])
    return _done()


@blp.post(f"{PREFIX}/ai/summarize")
def summarize() -> ResponseReturnValue:
    body = _load(SummarizeSchema())
    summary = _lifecycle().summarize(body["job_id"], body["text"])
    return jsonify(summary=summary)


@blp.get(f"{PREFIX}/jobs/<job_id>/check-cancel")
def check_cancel(job_id: str) -> ResponseReturnValue:
    return jsonify(cancel=_lifecycle().is_cancel_requested(job_id))


@blp.post(f"{JOBS}/claim")
def claim(job_id: str) -> ResponseReturnValue:
    ticket = _lifecycle().claim(job_id)
    if ticket is None:
        return _error(409, "not_claimable", "This job is not to be run now.")
    return jsonify(
        job_id=ticket.job_id,
        media_type=ticket.media_type,
        language=ticket.language,
        attempt=ticket.attempt,
    )


@blp.post(f"{JOBS}/progress")
def progress(job_id: str) -> ResponseReturnValue:
    body = _load(ProgressSchema())
    _lifecycle().report_progress(
        job_id, body["stage"], body["pages_done"], body["pages_total"]
    )
    return _done()


@blp.post(f"{JOBS}/heartbeat")
def heartbeat(job_id: str) -> ResponseReturnValue:
    _lifecycle().heartbeat(job_id)
    return _done()


@blp.post(f"{JOBS}/failed")
def failed(job_id: str) -> ResponseReturnValue:
    body = _load(FailedSchema())
    _lifecycle().failed(job_id, body["code"], body["message"])
    return _done()


@blp.post(f"{JOBS}/cancelled")
def cancelled(job_id: str) -> ResponseReturnValue:
    _lifecycle().cancelled(job_id)
    return _done()


@blp.post(f"{JOBS}/retry")
def retry(job_id: str) -> ResponseReturnValue:
    body = _load(RetrySchema())
    _lifecycle().retry_later(job_id, body["reason"], body["delay_seconds"])
    return _done()


@blp.get(f"{JOBS}/file")
def file(job_id: str) -> ResponseReturnValue:
    """The job's upload: a redirect when the store signs URLs, else the bytes."""
    key = _lifecycle().storage_key(job_id)
    files = container().file_store()

    url = files.download_url(key, job_id)
    if url is not None:
        return redirect(url, code=302)
    return send_file(files.open(key), mimetype="application/octet-stream")


def _lifecycle() -> Any:
    return container().job_lifecycle()


def _load(schema: ma.Schema) -> dict[str, Any]:
    """The JSON body checked by ``schema``; a bad body answers 422."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise _Invalid({"_schema": ["A JSON object is required."]})
    try:
        return schema.load(payload)
    except ma.ValidationError as error:
        raise _Invalid(error.normalized_messages()) from None


class _Invalid(Exception):
    """Raised when a worker's request body does not fit its schema."""

    def __init__(self, messages: dict[str, Any]) -> None:
        super().__init__("invalid body")
        self.messages = messages


@blp.errorhandler(_Invalid)
def _invalid(error: _Invalid) -> ResponseReturnValue:
    body = error_body(
        422,
        "invalid_input",
        "Some fields are missing or invalid.",
        {"json": error.messages},
    )
    return jsonify(body), 422


def _done() -> ResponseReturnValue:
    return "", 204


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error_body(status, code, message)), status
