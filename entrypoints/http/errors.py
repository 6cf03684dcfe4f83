"""One JSON shape for every error the API answers, 500 included.

    {"status": 404, "code": "not_found", "message": "No such task.",
     "errors": {...}, "request_id": "..."}

``errors`` appears only for invalid input and maps each location (json,
query, multipart) to the fields and their messages. Domain errors are
turned into status codes here and nowhere else.
"""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import Flask, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from tasks_api.domain import errors as domain

log = logging.getLogger(__name__)

STATUS_OF: dict[type[domain.DomainError], int] = {
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.InvalidInput: 422,
    domain.Unauthenticated: 401,
    domain.TooLarge: 413,
    domain.UnsupportedMedia: 415,
    domain.TooMany: 429,
}

CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media",
    422: "invalid_input",
    429: "too_many",
    500: "internal_error",
    503: "unavailable",
}


class ErrorSchema(ma.Schema):
    """The body of every error response."""

    status = ma.fields.Integer(required=True, metadata={"example": 404})
    code = ma.fields.String(
        required=True,
        metadata={"description": "What went wrong, for programs."},
    )
    message = ma.fields.String(
        required=True,
        metadata={"description": "What went wrong, for people."},
    )
    errors = ma.fields.Dict(
        metadata={"description": "Per-field messages, by request location."}
    )
    request_id = ma.fields.String()


def error_body(
    status: int,
    code: str,
    message: str,
    errors: dict | None = None,
) -> dict:
    body: dict = {"status": status, "code": code, "message": message}
    if errors:
        body["errors"] = errors
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    return body


def handle_http_exception(error: HTTPException) -> ResponseReturnValue:
    """Werkzeug and webargs errors: routing, methods, invalid input."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    field_errors = data.get("errors") or data.get("messages")

    if status == 422 and field_errors:
        message = "Some fields are missing or invalid."
    elif status == 400 and field_errors:
        # webargs' unreadable body; its errors say which, such as
        # {"json": ["Invalid JSON body."]}.
        message = "The request body could not be read."
    else:
        message = data.get("message") or error.description or error.name

    body = error_body(
        status, CODE_OF_STATUS.get(status, "error"), message, field_errors
    )
    headers = dict(data.get("headers") or {})
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return jsonify(body), status, headers


def handle_domain_error(error: domain.DomainError) -> ResponseReturnValue:
    status = next(
        (code for kind, code in STATUS_OF.items() if isinstance(error, kind)),
        400,
    )
    errors = None
    if "field" in error.details:
        field = str(error.details["field"])
        errors = {_location_of(field): {field: [error.message]}}

    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return (
        jsonify(error_body(status, error.code, error.message, errors)),
        status,
        headers,
    )


def _location_of(field: str) -> str:
    """Where the request carried ``field``, named as webargs names it."""
    if field in request.args:
        return "query"
    if field in request.form or field in request.files:
        return "multipart"
    return "json"


def handle_unexpected(error: Exception) -> ResponseReturnValue:
    """Anything else: logged with its traceback, answered without it."""
    log.exception("Unhandled error while serving the request.")
    body = error_body(500, "internal_error", "Something went wrong on our side.")
    return jsonify(body), 500


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(domain.DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
