"""An upload comes as a multipart form with a file that has something in it."""

from __future__ import annotations

import io

import pytest
from accounts import Account
from flask.testing import FlaskClient


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ('{"file": "scan.pdf"}', "application/json"),
        ({"file": "scan.pdf"}, "application/x-www-form-urlencoded"),
    ],
    ids=["json", "urlencoded-form"],
)
def test_a_body_that_is_not_multipart_is_a_415_saying_how_to_send_the_file(
    client: FlaskClient,
    alice: Account,
    alices_task: str,
    data: object,
    content_type: str,
) -> None:
    answer = client.post(
        f"/api/v1/tasks/{alices_task}/attachments",
        data=data,
        content_type=content_type,
        headers=alice.headers,
    )

    assert answer.status_code == 415
    assert answer.get_json()["message"] == (
        "Send the file as multipart/form-data, in a field named file "
        "(curl -F file=@scan.pdf)."
    )


def test_an_empty_file_is_a_422_that_says_so(
    client: FlaskClient, alice: Account, alices_task: str
) -> None:
    answer = client.post(
        f"/api/v1/tasks/{alices_task}/attachments",
        data={"file": (io.BytesIO(b""), "empty.png")},
        headers=alice.headers,
        content_type="multipart/form-data",
    )

    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {
        "multipart": {"file": ["The file is empty."]}
    }
