"""A 422 files each field's message under the part of the request that carried it.

The schemas' own errors come from webargs, keyed by location; the checks
the use cases make (a forged cursor, a wrong password, an OCR language
that is not installed) must land under the same keys, so a client reads
one shape whichever layer refused the field.
"""

from __future__ import annotations

import io

from accounts import Account
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def _field_errors(answer: TestResponse) -> dict:
    assert answer.status_code == 422, answer.get_data(as_text=True)
    return answer.get_json()["errors"]


def test_a_query_parameter_is_named_under_query(
    client: FlaskClient, alice: Account
) -> None:
    by_schema = client.get("/api/v1/projects?limit=many", headers=alice.headers)
    by_use_case = client.get("/api/v1/projects?cursor=forged", headers=alice.headers)

    assert _field_errors(by_schema) == {"query": {"limit": ["Not a valid integer."]}}
    assert _field_errors(by_use_case) == {
        "query": {"cursor": ["The cursor is not one this service gave out."]}
    }


def test_a_json_field_is_named_under_json(client: FlaskClient, alice: Account) -> None:
    answer = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not the password", "new_password": "fresh-1234"},
        headers=alice.headers,
    )

    assert list(_field_errors(answer)) == ["json"]
    assert "current_password" in _field_errors(answer)["json"]


def test_an_upload_form_field_is_named_under_multipart(
    client: FlaskClient, alice: Account, alices_task: str
) -> None:
    answer = client.post(
        f"/api/v1/tasks/{alices_task}/attachments",
        data={"file": (io.BytesIO(b"plain text"), "note.txt"), "language": "tlh"},
        headers=alice.headers,
        content_type="multipart/form-data",
    )

    assert _field_errors(answer) == {
        "multipart": {"language": ["No OCR data installed for: tlh."]}
    }
