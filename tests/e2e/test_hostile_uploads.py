"""A hostile corpus, made here, through a real embedded server.

Each file gets a 4xx at upload or a job that fails with a code and a
sentence; the worker then reads the next, normal file; and nothing is left
in the server's temporary folder.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ocr.documents import text_pdf
from PIL import Image
from servers import RunningProcess, api_server
from sse_client import open_stream, until_final

from e2e.client import ApiClient
from e2e.conftest import png_bytes, scan


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data))
    )


def huge_png_header() -> bytes:
    """A small PNG that declares 30000 x 30000 pixels."""
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def truncated_png() -> bytes:
    whole, _ = scan(seed=3, words=20)
    return whole[: len(whole) // 3]


def corrupt_tiff() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (200, 100), 255).save(buffer, format="TIFF")
    raw = bytearray(buffer.getvalue())
    raw[8:40] = b"\xff" * 32
    return bytes(raw)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, scratch: Path
) -> Iterator[RunningProcess]:
    extra = {"TMPDIR": str(scratch), "OCR_MAX_PAGES": "50"}
    with api_server(tmp_path_factory.mktemp("hostile"), extra) as running:
        yield running


@pytest.fixture(scope="module")
def user(server: RunningProcess) -> ApiClient:
    return ApiClient(server.url).sign_up()


def _upload(user: ApiClient, name: str, data: bytes) -> tuple[int, dict]:
    answer = user.call(
        "POST",
        f"/tasks/{user.new_task()}/attachments",
        files={"file": (name, io.BytesIO(data))},
    )
    return answer.status_code, answer.json()


def _final(user: ApiClient, job_id: str) -> dict:
    until_final(open_stream(f"{user.url}/api/v1/jobs/{job_id}/live", user.token))
    return user.job(job_id)


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        (
            "page.png",
            b"<!DOCTYPE html><html><body>hi</body></html>",
            "unsupported_media",
        ),
        ("binary.bin", bytes(range(256)) * 4, "unsupported_media"),
    ],
)
def test_files_of_no_type_we_read_are_refused_at_upload(
    user: ApiClient, name: str, data: bytes, code: str
) -> None:
    status, body = _upload(user, name, data)

    assert status == 415
    assert body["code"] == code and body["message"]


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("broken.png", truncated_png, "corrupt_image"),
        ("huge.png", huge_png_header, "too_many_pixels"),
        (
            "many.pdf",
            lambda: text_pdf([[f"page {n}"] for n in range(5000)]),
            "too_many_pages",
        ),
        ("locked.pdf", lambda: text_pdf([["secret"]], encrypt=True), "encrypted_pdf"),
        ("broken.tiff", corrupt_tiff, "corrupt_image"),
    ],
)
def test_unreadable_files_fail_their_job_with_a_reason(
    user: ApiClient,
    name: str,
    make: Callable[[], bytes],
    code: str,
) -> None:
    status, body = _upload(user, name, make())

    job = _final(user, body["job"]["id"])

    assert status == 202
    assert job["status"] == "failed"
    assert job["error"]["code"] == code
    assert len(job["error"]["message"]) > 20


def test_text_named_pdf_is_read_as_the_text_it_is(user: ApiClient) -> None:
    status, body = _upload(user, "report.pdf", b"Just words. Nothing more to it.")

    job = _final(user, body["job"]["id"])

    assert status == 202
    assert body["attachment"]["media_type"] == "text/plain"
    assert job["status"] == "succeeded"


def test_then_a_normal_scan_is_read_and_no_temp_file_is_left(
    user: ApiClient, server: RunningProcess, scratch: Path
) -> None:
    data, _ = scan(seed=8, words=30)

    status, body = _upload(user, "fine.png", data)
    job = _final(user, body["job"]["id"])

    assert status == 202 and job["status"] == "succeeded"
    assert "Traceback" not in server.log()
    assert list(scratch.iterdir()) == []


def test_an_upload_over_the_size_limit_is_a_413(user: ApiClient) -> None:
    too_big = png_bytes(Image.new("L", (10, 10))) + b"\x00" * (26 * 1024 * 1024)

    status, body = _upload(user, "big.png", too_big)

    assert status == 413
    assert body["code"] == "too_large"
