"""Query strings are parsed once per process and served from memory after."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tasks_api.entrypoints.http import common
from tasks_api.entrypoints.http.common import ArgumentsParser, Blueprint


class CountingQuerySchema(ma.Schema):
    """A query of one bounded number and a flag, counting its own loads."""

    size = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10))
    flag = ma.fields.Boolean()

    loads = 0

    @ma.pre_load
    def _count(self, data: Any, **_: Any) -> Any:
        type(self).loads += 1
        return data


@pytest.fixture
def client() -> FlaskClient:
    """An app of one route whose blueprint has a fresh parser of its own."""
    CountingQuerySchema.loads = 0

    class FreshBlueprint(Blueprint):
        ARGUMENTS_PARSER = ArgumentsParser()

    blp = FreshBlueprint("probe", __name__)

    @blp.get("/probe")
    @blp.arguments(CountingQuerySchema(), location="query")
    def probe(args: dict) -> dict:
        answer = {**args, "changed_before": "changed" in args}
        args["changed"] = True  # a view may change its own copy
        return answer

    app = Flask(__name__)
    app.config.update(API_TITLE="probe", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    flask_smorest.Api(app).register_blueprint(blp)
    return app.test_client()


def test_a_query_string_seen_before_is_not_parsed_again(client: FlaskClient) -> None:
    first = client.get("/probe?size=3&flag=true")
    again = client.get("/probe?size=3&flag=true")
    other = client.get("/probe?size=4")

    assert (
        first.json == again.json == {"size": 3, "flag": True, "changed_before": False}
    )
    assert other.json == {"size": 4, "changed_before": False}
    assert CountingQuerySchema.loads == 2


def test_a_query_string_that_fails_fails_every_time(client: FlaskClient) -> None:
    answers = [client.get("/probe?size=11") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [422, 422, 422]
    assert answers[0].json == answers[2].json
    assert "size" in answers[0].json["errors"]["query"]
    assert CountingQuerySchema.loads == 3


def test_the_parser_remembers_a_bounded_number_of_query_strings(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "PARSED_QUERIES_KEPT", 4)

    for size in range(1, 11):
        assert client.get(f"/probe?size={size}").json["size"] == size
    assert client.get("/probe?size=10").json["size"] == 10

    parser = client.application.blueprints["probe"].ARGUMENTS_PARSER
    assert len(parser._parsed_queries) <= 4
    assert CountingQuerySchema.loads == 10


def test_a_schema_can_ask_not_to_be_remembered(client: FlaskClient) -> None:
    CountingQuerySchema.keep_parsed_queries = False
    try:
        for _ in range(3):
            assert client.get("/probe?size=3").json["size"] == 3
    finally:
        del CountingQuerySchema.keep_parsed_queries

    assert CountingQuerySchema.loads == 3
