"""The Flask application factory."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import flask_smorest
import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from tasks_api.entrypoints.http import (
    attachments,
    auth,
    console,
    internal,
    live,
    metrics,
    ops,
    projects,
    tasks,
)
from tasks_api.entrypoints.http.common import CONTAINER_KEY, JSON_ONLY
from tasks_api.entrypoints.http.errors import (
    ErrorSchema,
    handle_http_exception,
    register_error_handlers,
)
from tasks_api.entrypoints.http.json_provider import OrjsonProvider
from tasks_api.entrypoints.http.limits import install_limits

API_PREFIX = "/api/v1"
SWAGGER_UI_ASSETS = f"{API_PREFIX}/docs/assets/"


class SyncFlask(Flask):
    """Flask for an app with no ``async`` views or hooks.

    Flask asks of every view, hook and decorator layer, on every request,
    whether it is a coroutine function (``ensure_sync``): about a dozen
    questions and 7 microseconds a request here. Under gevent nothing needs
    to be async; ``create_app`` refuses an async view when the app is built.
    """

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return func


class Api(flask_smorest.Api):
    """flask-smorest's Api, answering errors in our one JSON shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        return handle_http_exception(error)


def create_app(services: Any) -> Flask:
    """Build the app around a container of services (see ``container.py``)."""
    app = SyncFlask("tasks_api", static_folder=None)
    app.json = OrjsonProvider(app)
    settings = services.settings()
    app.config.update(
        API_TITLE="Tasks API",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=SWAGGER_UI_ASSETS,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 64 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.extensions[CONTAINER_KEY] = services

    api = Api(
        app,
        spec_kwargs={
            "info": {
                "description": "Projects and tasks whose attached files are "
                "read by OCR and summarized in the background."
            }
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for blueprint in (auth.blp, projects.blp, tasks.blp, attachments.blp, live.blp):
        api.register_blueprint(blueprint)
    _document_transport_errors(api)

    app.register_blueprint(ops.blp)
    app.register_blueprint(console.blp)
    # Worker-only routes: outside flask-smorest, so outside the public document.
    app.register_blueprint(internal.blp)
    app.register_blueprint(metrics.blp)
    app.add_url_rule(
        f"{SWAGGER_UI_ASSETS}<path:filename>",
        endpoint="swagger_ui_assets",
        view_func=_swagger_ui_asset,
    )
    register_error_handlers(app)
    install_limits(app, settings)
    if settings.cors_origins:
        CORS(
            app,
            resources={f"{API_PREFIX}/*": {"origins": list(settings.cors_origins)}},
            expose_headers=["X-Request-ID", "Retry-After"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "Last-Event-ID",
            ],
        )
    ops.install_request_logging(app)
    metrics.install_metrics(app)
    _refuse_async_views(app)
    return app


def _refuse_async_views(app: Flask) -> None:
    """Fail at start-up on an ``async def`` view, which SyncFlask would not await."""
    for endpoint, view in app.view_functions.items():
        view_class = getattr(view, "view_class", None)
        handlers = (
            [getattr(view_class, method.lower()) for method in view_class.methods or ()]
            if view_class
            else [view]
        )
        for handler in handlers:
            if inspect.iscoroutinefunction(inspect.unwrap(handler)):
                raise TypeError(f"{endpoint}: async views are not supported here.")


def _document_transport_errors(api: Api) -> None:
    """Add to every operation the answers any request may get before a view runs.

    A body that is not valid JSON or form data is a 400, and a body a JSON
    route gets under another content type is a 415, both in the error
    shape; a URL longer than gunicorn's request-line limit (4094 bytes) is
    its own plain-text 414.
    """
    error_shape = {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
    }
    malformed = {
        "description": "The request is malformed: unreadable JSON or form data.",
        "content": error_shape,
    }
    not_json = {"description": JSON_ONLY, "content": error_shape}
    too_long = {"description": "The URL is longer than the server accepts."}
    # apispec keeps the operations in a plain dict it fills as views register.
    for operations in api.spec._paths.values():
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                responses = operation.setdefault("responses", {})
                responses.setdefault("400", malformed)
                responses.setdefault("414", too_long)
                body_types = operation.get("requestBody", {}).get("content", {})
                if "application/json" in body_types:
                    responses.setdefault("415", not_json)


def _swagger_ui_asset(filename: str) -> Any:
    """Swagger UI's scripts, served from the installed bundle, so docs work offline."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
