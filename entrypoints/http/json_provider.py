"""Flask's JSON answers written by orjson.

Writing a page of twenty tasks with the standard library's encoder, after
turning every timestamp into a string first, took about a fifth of the
request. orjson writes dates and enums itself, several times faster;
times come to it as text already (the schemas' ``Timestamp`` fields and
the list items), so every answer writes them alike. Request bodies are
still read by the standard library, which keeps big integers exact where
orjson would turn them into floats.
"""

from __future__ import annotations

import decimal
from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

# Non-string keys are written as strings, as the standard library does:
# marshmallow keys the errors of a list's items by their index.
OPTIONS = orjson.OPT_NON_STR_KEYS


def _fallback(value: Any) -> Any:
    """What orjson does not write itself, written as Flask's provider would."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> bytes:
    """``value`` as JSON, written the way every answer of the API is."""
    return orjson.dumps(value, default=_fallback, option=OPTIONS)


class OrjsonProvider(DefaultJSONProvider):
    """Writes with orjson; reads with the standard library, as Flask does."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return to_json(obj).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = to_json(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body, mimetype=self.mimetype)
