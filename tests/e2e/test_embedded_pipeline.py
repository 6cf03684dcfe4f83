"""Uploads through a real embedded server end with text and a summary."""

from __future__ import annotations

from pathlib import Path

from servers import RunningProcess
from sse_client import open_stream, until_final

from e2e.client import ApiClient
from e2e.conftest import photo, scan, scanned_pdf, words_found


def follow(user: ApiClient, job_id: str) -> list:
    stream = open_stream(f"{user.url}/api/v1/jobs/{job_id}/live", user.token)
    try:
        return until_final(stream)
    finally:
        stream.close()


def test_a_scanned_page_ends_with_its_text_and_a_summary(user: ApiClient) -> None:
    data, text = scan()
    task_id = user.new_task()

    upload = user.upload(task_id, "scan.png", data)
    events = follow(user, upload["job"]["id"])
    job = user.job(upload["job"]["id"])

    assert upload["job"]["status"] == "queued"
    assert upload["attachment"]["media_type"] == "image/png"
    assert events[-1].data["status"] == "succeeded"
    assert job["status"] == "succeeded" and job["progress"] == 100
    assert words_found(text, job["text"]) > 0.95
    # The local summarizer picks whole sentences of the text.
    assert job["summary"] and words_found(job["summary"], job["text"]) == 1.0


def test_a_photo_like_image_is_read(user: ApiClient) -> None:
    data, text = photo()
    task_id = user.new_task()

    upload = user.upload(task_id, "photo.jpg", data)
    follow(user, upload["job"]["id"])
    job = user.job(upload["job"]["id"])

    assert job["status"] == "succeeded", job["error"]
    assert words_found(text, job["text"]) > 0.9


def test_a_scanned_pdf_is_read_page_by_page(user: ApiClient, tmp_path: Path) -> None:
    data, texts = scanned_pdf(tmp_path, pages=2)
    task_id = user.new_task()

    upload = user.upload(task_id, "scan.pdf", data)
    events = follow(user, upload["job"]["id"])
    job = user.job(upload["job"]["id"])

    ocr_progress = [
        e.data for e in events if e.type == "progress" and e.data["stage"] == "ocr"
    ]
    assert job["status"] == "succeeded", job["error"]
    assert [p["pages_done"] for p in ocr_progress] == [1, 2]
    assert all(words_found(text, job["text"]) > 0.95 for text in texts)


def test_plain_text_needs_no_ocr(user: ApiClient) -> None:
    task_id = user.new_task()
    body = b"Minutes of the meeting. The budget was approved. We meet on Friday."

    upload = user.upload(task_id, "notes.txt", body)
    follow(user, upload["job"]["id"])
    job = user.job(upload["job"]["id"])

    assert upload["attachment"]["media_type"] == "text/plain"
    assert job["text"].strip() == body.decode()
    assert job["summary"]


def test_html_named_png_is_refused_with_415(user: ApiClient) -> None:
    task_id = user.new_task()

    answer = user.call(
        "POST",
        f"/tasks/{task_id}/attachments",
        files={"file": ("evil.png", b"<html><script>alert(1)</script></html>")},
    )

    assert answer.status_code == 415
    assert answer.json()["code"] == "unsupported_media"


def test_the_original_upload_path_still_works(user: ApiClient) -> None:
    task_id = user.new_task()

    answer = user.call(
        "POST",
        f"/projects/{task_id}/attachments",
        files={"file": ("a.txt", b"Hello there.")},
    )

    assert answer.status_code == 202
    assert answer.json()["job"]["id"]


def test_a_retried_upload_with_the_same_key_returns_the_first(user: ApiClient) -> None:
    task_id = user.new_task()
    key = {"Idempotency-Key": "upload-42"}

    first = user.call(
        "POST",
        f"/tasks/{task_id}/attachments",
        headers=key,
        files={"file": ("a.txt", b"Once only.")},
    )
    again = user.call(
        "POST",
        f"/tasks/{task_id}/attachments",
        headers=key,
        files={"file": ("a.txt", b"Once only.")},
    )
    listed = user.call("GET", f"/tasks/{task_id}/attachments", 200).json()["items"]

    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["attachment"]["id"] == first.json()["attachment"]["id"]
    assert len(listed) == 1


def test_the_download_returns_the_bytes_uploaded(user: ApiClient) -> None:
    data, _ = scan(seed=5, words=10)
    task_id = user.new_task()
    upload = user.upload(task_id, "../../etc/passwd.png", data)

    download = user.call(
        "GET", f"/attachments/{upload['attachment']['id']}/download", 200
    )

    assert download.content == data
    assert upload["attachment"]["filename"] == "passwd.png"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_the_server_started_in_embedded_mode(embedded: RunningProcess) -> None:
    assert "gevent" in embedded.log().lower() or "Booting worker" in embedded.log()


def test_a_refused_upload_frees_its_idempotency_key(user: ApiClient) -> None:
    task_id = user.new_task()
    key = {"Idempotency-Key": "try-again"}

    refused = user.call(
        "POST",
        f"/tasks/{task_id}/attachments",
        headers=key,
        files={"file": ("a.png", b"<html>not an image</html>")},
    )
    retried = user.call(
        "POST",
        f"/tasks/{task_id}/attachments",
        headers=key,
        files={"file": ("a.txt", b"Now a real note.")},
    )

    assert refused.status_code == 415
    assert retried.status_code == 202
