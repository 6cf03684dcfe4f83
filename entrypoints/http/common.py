"""What every blueprint uses: the container, the current user, query strings, pages."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import flask_smorest
import marshmallow as ma
import orjson
from flask import Request, Response, current_app, g, jsonify, request
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.exceptions import UnsupportedMediaType

from tasks_api.domain.errors import Unauthenticated
from tasks_api.domain.listing import Cursor, ItemJson, Page, PageRequest, clamp_limit
from tasks_api.domain.model import User
from tasks_api.entrypoints.http.errors import ErrorSchema

CONTAINER_KEY = "tasks_api.container"
BEARER = [{"bearerAuth": []}]
JSON_ONLY = "Send the body as JSON, with Content-Type: application/json."
# Query strings whose parsed arguments one process remembers; when full,
# the memory starts over.
PARSED_QUERIES_KEPT = 512

View = TypeVar("View", bound=Callable[..., Any])


class ArgumentsParser(FlaskParser):
    """webargs' Flask parser, remembering what each query string parsed to.

    Checking a filtered task list's query string costs marshmallow about
    170 thousand instructions, a twelfth of the whole request, and lists
    are asked for with the same query string again and again: a client
    polling a list, every user opening the first page of a project's tasks
    with the same filters. The result depends on the schema and the query
    string alone, so it is kept, and each request gets its own copy of it.
    A query string that fails is parsed anew each time, so its errors are
    always the parser's own. Bodies, other locations and schemas with a
    list field, whose lists a view could change in place, are not kept,
    nor schemas that say ``keep_parsed_queries = False``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parsed_queries: dict[tuple[ma.Schema, Any, bytes], dict[str, Any]] = {}

    def parse(
        self,
        argmap: Any,
        req: Request | None = None,
        *,
        location: str | None = None,
        **options: Any,
    ) -> Any:
        remembered = (
            location == "query"
            and isinstance(argmap, ma.Schema)
            and not _takes_lists(argmap)
            and getattr(argmap, "keep_parsed_queries", True)
            and options.get("validate") is None
        )
        if not remembered:
            return super().parse(argmap, req, location=location, **options)

        served = req if req is not None else self.get_default_request()
        key = (argmap, options.get("unknown"), served.query_string)
        parsed = self._parsed_queries.get(key)
        if parsed is None:
            parsed = super().parse(argmap, served, location=location, **options)
            if len(self._parsed_queries) >= PARSED_QUERIES_KEPT:
                self._parsed_queries.clear()
            self._parsed_queries[key] = parsed
        return dict(parsed)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, reading arguments with ``ArgumentsParser``."""

    ARGUMENTS_PARSER = ArgumentsParser()


# Flask's names for the current app, request and ``g`` are proxies: each
# attribute read through one looks the request up again, after failing as
# an AttributeError first, about 0.7 microseconds. What runs on every
# request asks the proxy for its object (``_get_current_object()``, a tenth
# of that) and reads from the object: the helpers below, and the hooks in
# ops.py and metrics.py.


def container() -> Any:
    """The dependency container the running app was built with."""
    return current_app._get_current_object().extensions[CONTAINER_KEY]


def current_user() -> User:
    return cast(User, g._get_current_object().user)


def bearer_token() -> str:
    header = request._get_current_object().headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("An Authorization: Bearer token is required.")
    return token.strip()


def protected(blp: Blueprint) -> Callable[[View], View]:
    """Require a valid access token, and document that in OpenAPI."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = container().auth().authenticate(bearer_token())
            g._get_current_object().user = user
            return view(*args, **kwargs)

        documented = blp.doc(security=BEARER)(wrapper)
        documented = blp.alt_response(
            401, schema=ErrorSchema, description="No valid access token."
        )(documented)
        return cast(View, documented)

    return decorate


@Blueprint.ARGUMENTS_PARSER.location_loader("query")
def _query_arguments(req: Request, schema: ma.Schema) -> Mapping[str, Any]:
    """The query string as a plain dict, unless the schema has a list field.

    webargs' own loader wraps the query in a proxy that asks, for every
    field, whether the field takes several values, and each parameter left
    out costs a raised and caught KeyError. On a filtered task list that
    was about a quarter of the argument parsing, 3.5 % of the request's
    instructions. A repeated parameter still counts once, with its first
    value, as under webargs' loader; a schema with a list field keeps the
    proxy. Registered on flask-smorest's one shared parser, as the
    multipart loader in ``attachments.py`` is.
    """
    if _takes_lists(schema):
        return MultiDictProxy(req.args, schema)
    return req.args.to_dict()


@Blueprint.ARGUMENTS_PARSER.location_loader("json")
def _json_body(req: Request, schema: ma.Schema) -> Any:
    """The JSON body; a body sent as another type is a 415.

    webargs reads a body without a JSON content type as no body at all, so
    ``curl -d '{"name": "x"}'``, which sends a form type, was told that
    ``name`` was missing. An empty body is still read as no fields.
    """
    if req.content_length and not req.is_json:
        raise UnsupportedMediaType(JSON_ONLY)
    return Blueprint.ARGUMENTS_PARSER.load_json(req, schema)


@functools.cache
def _takes_lists(schema: ma.Schema) -> bool:
    """Whether webargs would read any of the schema's fields as a list.

    Cached by schema instance: the views' schemas are made once, at import.
    """
    return bool(MultiDictProxy({}, schema).multiple_keys)


def page_request(args: Mapping[str, Any]) -> PageRequest:
    cursor = args.get("cursor")
    return PageRequest(
        limit=clamp_limit(args.get("limit")),
        after=Cursor.decode(cursor) if cursor else None,
    )


def page_body(page: Page[Any], limit: int) -> dict[str, Any]:
    """A page as the API answers it, items as they are, for a schema to dump."""
    next_cursor = page.next_cursor.encode() if page.next_cursor else None
    return {"items": page.items, "next_cursor": next_cursor, "limit": limit}


def page_response(page: Page[ItemJson], limit: int) -> Response:
    """A page of JSON items as a finished JSON response, past the schema.

    The items are set in as they are written (``orjson.Fragment``), which
    the app's JSON provider, orjson, copies without reading them.
    """
    body = page_body(page, limit)
    body["items"] = orjson.Fragment(f"[{','.join(page.items)}]")
    return jsonify(body)
