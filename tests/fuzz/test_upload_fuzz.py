"""Fuzzing the upload route through the Flask test client.

Whatever file a client sends, under whatever name and language, the
answer is 202 (accepted and queued), 413 (too large), 415 (not a type we
read) or 422 (an invalid form), each error in the API's one JSON shape.
A 500 is a bug. Jobs are queued in a ``RecordingQueue`` and never run:
reading the files is fuzzed in ``test_document_fuzz.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from accounts import Account
from dependency_injector import providers
from fakes.ports import RecordingQueue
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fuzz.conftest import MAX_UPLOAD_BYTES
from fuzz.samples import examples, files
from tasks_api.entrypoints.container import Container

ANSWERS = {202, 413, 415, 422}
ERROR_FIELDS = {"status", "code", "message", "errors", "request_id"}

oversized = st.builds(
    lambda data, padding: data + bytes(padding),
    files(),
    st.integers(MAX_UPLOAD_BYTES, 2 * MAX_UPLOAD_BYTES),
)
filenames = st.one_of(
    st.sampled_from(["scan.png", "../../etc/passwd", "C:\\tmp\\a.pdf", ""]),
    st.text(max_size=300),
)
# Mostly the installed language, so that most files get past the form.
languages = st.integers(0, 4).flatmap(
    lambda n: st.text(max_size=90) if n == 0 else st.just("eng")
)


@pytest.fixture
def upload_url(client: FlaskClient, services: Container, alice: Account) -> str:
    """The upload route of a task of Alice's, with a queue that runs nothing."""
    services.queue.override(providers.Object(RecordingQueue()))
    project = client.post(
        "/api/v1/projects", json={"name": "Fuzz"}, headers=alice.headers
    )
    task = client.post(
        f"/api/v1/projects/{project.get_json()['id']}/tasks",
        json={"title": "Fuzz"},
        headers=alice.headers,
    )
    return f"/api/v1/tasks/{task.get_json()['id']}/attachments"


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def assert_in_our_error_shape(status: int, body: object) -> None:
    assert isinstance(body, dict), body
    assert set(body) <= ERROR_FIELDS, body
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]


@settings(
    max_examples=examples(300),
    deadline=10_000,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.one_of(files(), oversized), filenames, languages)
def test_any_file_is_accepted_or_refused_in_our_error_shape(
    client: FlaskClient,
    services: Container,
    alice: Account,
    upload_url: str,
    content: bytes,
    filename: str,
    language: str,
) -> None:
    root = services.settings().files_dir
    before = len(stored_files(root))

    answer = client.post(
        upload_url,
        data={"file": (io.BytesIO(content), filename), "language": language},
        content_type="multipart/form-data",
        headers=alice.headers,
    )

    event(f"answered {answer.status_code}")
    assert answer.status_code in ANSWERS, answer.get_data(as_text=True)
    assert answer.mimetype == "application/json"
    body = answer.get_json()
    if answer.status_code == 202:
        assert body["attachment"]["size"] == len(content)
        assert body["job"]["status"] == "queued"
        assert len(stored_files(root)) == before + 1
    else:
        assert_in_our_error_shape(answer.status_code, body)
        # A refused upload leaves nothing behind, not even a partial file.
        assert len(stored_files(root)) == before


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ({"file": "not a file part"}, "multipart/form-data"),
        ({"language": "eng"}, "multipart/form-data"),
        (b"--cut\r\nno headers", "multipart/form-data; boundary=cut"),
        (b"--cut\r\nno boundary given", "multipart/form-data"),
    ],
    ids=[
        "file-as-plain-field",
        "no-file",
        "broken-multipart",
        "multipart-without-boundary",
    ],
)
def test_a_form_without_a_file_part_is_invalid_input(
    client: FlaskClient,
    alice: Account,
    upload_url: str,
    data: object,
    content_type: str,
) -> None:
    answer = client.post(
        upload_url, data=data, content_type=content_type, headers=alice.headers
    )

    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert_in_our_error_shape(422, answer.get_json())
