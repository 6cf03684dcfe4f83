"""Users, uploads and the checks every fault test ends with."""

from __future__ import annotations

from dataclasses import dataclass

from e2e.client import ApiClient

from faults.documents import Document, words_found
from faults.history import Seen, StoredHistory, StreamFollower, check_history


@dataclass(frozen=True)
class Uploaded:
    """A document a user uploaded, and the job that reads it."""

    user: ApiClient
    job_id: str
    document: Document

    def follow(self) -> StreamFollower:
        """Start following the job's live stream, as its owner."""
        return StreamFollower(self.user.url, self.user.token, self.job_id).start()

    def job(self) -> dict:
        return self.user.job(self.job_id)


def upload_all(url: str, documents: list[Document], users: int = 1) -> list[Uploaded]:
    """Upload ``documents`` spread over ``users`` new users, one task each."""
    clients = [ApiClient(url).sign_up() for _ in range(users)]
    tasks = [client.new_task() for client in clients]
    uploaded = []
    for n, document in enumerate(documents):
        client, task_id = clients[n % users], tasks[n % users]
        answer = client.upload(task_id, document.name, document.data)
        uploaded.append(Uploaded(client, answer["job"]["id"], document))
    return uploaded


def assert_read_once(upload: Uploaded, job: dict) -> None:
    """The job succeeded with its own document's text, once, and a summary."""
    assert job["status"] == "succeeded", job
    expected = upload.document.text
    assert words_found(expected, job["text"]) > 0.9, (expected, job["text"])
    # Read twice and stored twice would double the words.
    assert len(job["text"].split()) < 1.3 * len(expected.split()), job["text"]
    assert job["summary"], job


def assert_told_the_truth(
    stored: StoredHistory, upload: Uploaded, streamed: list[Seen]
) -> list[Seen]:
    """The stored events are coherent and the stream showed exactly them."""
    events = stored.events(upload.job_id)
    check_history(events)
    assert streamed == events, f"stream of {upload.job_id} differs from storage"
    return events


def starts(events: list[Seen]) -> int:
    """How many times a worker started the job."""
    return sum(e.type == "status" and e.data["status"] == "running" for e in events)
