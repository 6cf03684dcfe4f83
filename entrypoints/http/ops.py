"""Liveness, readiness, request ids and the access log."""

from __future__ import annotations

import logging
import random
import re
import time

from flask import Blueprint, Flask, Response, g, jsonify, request

from tasks_api.entrypoints.http.common import container

log = logging.getLogger("tasks_api.access")

REQUEST_ID_HEADER = "X-Request-ID"
# A client's own request id is kept only when it is short and plain, so it
# cannot forge log lines or bloat them.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

blp = Blueprint("ops", __name__)


@blp.get("/healthz")
def healthz() -> Response:
    """The process is up and serving requests."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Every backing service this process depends on answers."""
    checks = container().readiness_checks()
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:
            log.warning("Readiness check %s failed: %s", name, error)
            results[name] = "unavailable"

    ready = all(result == "ok" for result in results.values())
    status = "ok" if ready else "unavailable"
    return jsonify(status=status, checks=results), 200 if ready else 503


def new_request_id() -> str:
    """128 random bits as 32 hex digits: a label for logs, not a secret.

    Python's own generator, which needs no system call, unlike ``secrets``;
    the random module seeds itself afresh in every forked worker.
    """
    return f"{random.getrandbits(128):032x}"


def install_request_logging(app: Flask) -> None:
    """Give every request an id, echo it back, and log one line per request."""

    @app.before_request
    def _start() -> None:
        state = g._get_current_object()
        incoming = request._get_current_object().headers.get(REQUEST_ID_HEADER, "")
        if _ACCEPTABLE_REQUEST_ID.match(incoming):
            state.request_id = incoming
        else:
            state.request_id = new_request_id()
        state.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        # Each name of Flask's (g, request) is a proxy that looks the
        # request up again on every use, so each is resolved once, here
        # and above.
        state = g._get_current_object()
        served = request._get_current_object()
        request_id = getattr(state, "request_id", "")
        response.headers[REQUEST_ID_HEADER] = request_id
        started = getattr(state, "started", None)
        elapsed_ms = 0.0 if started is None else (time.perf_counter() - started) * 1000
        if log.isEnabledFor(logging.INFO):
            user = getattr(state, "user", None)
            status = response.status_code
            log.info(
                "%s %s %d %.1fms",
                served.method,
                served.path,
                status,
                elapsed_ms,
                extra={
                    "request_id": request_id,
                    "user_id": user.id if user else None,
                    "status": status,
                    "duration_ms": round(elapsed_ms, 1),
                },
            )
        return response
