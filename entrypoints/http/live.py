"""Server-Sent Events: a job's progress, status, summary and errors, live.

    GET  /api/v1/jobs/{job_id}/live           text/event-stream
    POST /api/v1/jobs/{job_id}/stream-token   a token for EventSource

Each event has ``id`` (its number within the job), ``event`` (progress,
status, summary_ready, error) and JSON ``data``. A client that reconnects
with ``Last-Event-ID`` gets exactly what it missed. A browser's EventSource
cannot send an Authorization header, so it asks for a stream token with
its access token and passes that as ``?stream_token=``: good for one job,
for five minutes, and never the long-lived access token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import marshmallow as ma
from flask import Response, g, request
from flask.views import MethodView

from tasks_api.domain.errors import InvalidInput
from tasks_api.domain.jobs import EventType, JobEvent
from tasks_api.domain.model import User
from tasks_api.entrypoints.http.common import (
    BEARER,
    Blueprint,
    bearer_token,
    container,
    current_user,
    protected,
)
from tasks_api.entrypoints.http.errors import ErrorSchema
from tasks_api.usecases.live import Heartbeat

blp = Blueprint("live", __name__, url_prefix="/api/v1", description="Live job events.")

RETRY_MILLISECONDS = 3000

# One event of the stream, as its fields arrive; ``data`` is JSON text.
LIVE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "event": {"type": "string", "enum": [t.value for t in EventType]},
        "data": {
            "type": "string",
            "description": "A JSON object. progress: stage, pages_done, "
            "pages_total, percent. status: status, stage, progress, attempts, "
            "and reason or retry_in_seconds when a job is retried. "
            "summary_ready: summary. error: code and message.",
        },
    },
}
STREAM_TOKEN_PARAM = "stream_token"  # noqa: S105 - a parameter name


class StreamTokenSchema(ma.Schema):
    stream_token = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)
    url = ma.fields.String(
        required=True, metadata={"description": "The stream URL to open."}
    )


class LiveQuerySchema(ma.Schema):
    # A stream token is a credential, and new on every stream: nothing to
    # gain from remembering it (see ArgumentsParser).
    keep_parsed_queries = False

    stream_token = ma.fields.String(
        metadata={
            "description": "From POST /jobs/{job_id}/stream-token, for EventSource."
        }
    )


@blp.route("/jobs/<job_id>/stream-token")
class JobStreamToken(MethodView):
    @protected(blp)
    @blp.response(201, StreamTokenSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such job of yours.")
    def post(self, job_id: str) -> dict:
        """Get a short-lived token to follow one job from a browser's EventSource."""
        container().jobs().get(current_user().id, job_id)
        issued = container().auth().stream_token(current_user(), job_id)
        return {
            "stream_token": issued.token,
            "expires_in": issued.expires_in,
            "url": f"{request.script_root}/api/v1/jobs/{job_id}/live"
            f"?{STREAM_TOKEN_PARAM}={issued.token}",
        }


@blp.route("/jobs/<job_id>/live")
class JobLive(MethodView):
    @blp.arguments(LiveQuerySchema(), location="query")
    @blp.doc(
        security=[*BEARER, {}],
        parameters=[
            {
                "in": "header",
                "name": "Last-Event-ID",
                "schema": {"type": "integer", "minimum": 0},
                "description": "The last event id received; only later ones are sent.",
            }
        ],
        responses={
            "200": {
                "description": "An event stream of progress, status, summary_ready "
                "and error events; it ends after the job's final status.",
                "content": {"text/event-stream": {"schema": LIVE_EVENT}},
            },
            "204": {
                "description": "Last-Event-ID was the job's final event: "
                "there is nothing more to send, and EventSource stops retrying."
            },
        },
    )
    @blp.alt_response(401, schema=ErrorSchema, description="No valid token.")
    @blp.alt_response(404, schema=ErrorSchema, description="No such job of yours.")
    @blp.alt_response(429, schema=ErrorSchema, description="Too many open streams.")
    def get(self, args: dict, job_id: str) -> Response:
        """Follow a job's events as Server-Sent Events."""
        user = _stream_user(args, job_id)
        g.user = user
        after = _last_event_id()

        events = container().follower().follow(user.id, job_id, after)
        if events is None:
            # 204 tells EventSource the stream is over for good: stop retrying.
            return Response(status=204)
        response = Response(_as_sse(events), mimetype="text/event-stream")
        # Runs when the server is done with the response, even if the client
        # left before the first event was read.
        response.call_on_close(events.close)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response


def _stream_user(args: dict, job_id: str) -> User:
    token = args.get(STREAM_TOKEN_PARAM)
    if token:
        return container().auth().authenticate_stream(token, job_id)
    return container().auth().authenticate(bearer_token())


def _last_event_id() -> int:
    raw = request.headers.get("Last-Event-ID", "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidInput(
            "Last-Event-ID must be a whole number.", field="Last-Event-ID"
        )
    return int(raw)


def _as_sse(events: Iterator[JobEvent | Heartbeat]) -> Iterator[str]:
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    for item in events:
        if isinstance(item, Heartbeat):
            yield ": keep-alive\n\n"
            continue
        data = json.dumps(item.data, separators=(",", ":"))
        yield f"id: {item.seq}\nevent: {item.type.value}\ndata: {data}\n\n"
