"""Worker calls signed with an HMAC and a timestamp, and secret rotation."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tasks_api.adapters.gateway.signing import (
    SIGNATURE_HEADER,
    MemoryReplayGuard,
    SignatureRefused,
    sign,
    verify,
)
from transport.support import WORKER_SECRET, JobWorld, internal_app

PREVIOUS = "the-secret-before-the-rotation-0123456789abcdef"


def _post(
    client: FlaskClient,
    path: str,
    body: dict,
    secret: str = WORKER_SECRET,
    signature: str | None = "sign",
    signed_body: bytes | None = None,
) -> int:
    raw = json.dumps(body).encode()
    headers = {"x-worker-secret": secret, "Content-Type": "application/json"}
    if signature == "sign":
        signature = sign(
            secret, "POST", path, raw if signed_body is None else signed_body
        )
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return client.post(path, data=raw, headers=headers).status_code


@pytest.fixture
def world(tmp_path: Path) -> JobWorld:
    return JobWorld(tmp_path)


def test_a_signed_call_is_accepted_once_and_refused_when_replayed(
    world: JobWorld,
) -> None:
    client = internal_app(world).test_client()
    job = world.add_job()
    path = f"/api/v1/internal/jobs/{job.id}/claim"
    raw = json.dumps({}).encode()
    signature = sign(WORKER_SECRET, "POST", path, raw)

    first = _post(client, path, {}, signature=signature)
    replayed = _post(client, path, {}, signature=signature)

    assert first == 200
    assert replayed == 401


def test_a_body_changed_after_signing_is_refused(world: JobWorld) -> None:
    client = internal_app(world).test_client()
    job = world.add_job()

    status = _post(
        client,
        "/api/v1/webhooks/file-processed",
        {"job_id": job.id, "text": "forged"},
        signed_body=json.dumps({"job_id": job.id, "text": "real"}).encode(),
    )

    assert status == 401
    assert world.job(job.id).text is None


def test_an_old_signature_is_refused(world: JobWorld) -> None:
    client = internal_app(world).test_client()
    job = world.add_job()
    path = f"/api/v1/internal/jobs/{job.id}/claim"
    stale = sign(WORKER_SECRET, "POST", path, b"{}", now=time.time() - 3600)

    assert _post(client, path, {}, signature=stale) == 401


def test_signatures_can_be_required(world: JobWorld) -> None:
    client = internal_app(world, require_worker_signature=True).test_client()
    job = world.add_job()
    path = f"/api/v1/internal/jobs/{job.id}/claim"

    unsigned = _post(client, path, {}, signature=None)
    signed = _post(client, path, {})

    assert (unsigned, signed) == (401, 200)


def test_during_a_rotation_both_secrets_are_accepted(world: JobWorld) -> None:
    client = internal_app(world, worker_secret_previous=PREVIOUS).test_client()
    first, second = world.add_job(), world.add_job()

    with_new = _post(client, f"/api/v1/internal/jobs/{first.id}/claim", {})
    with_old = _post(
        client, f"/api/v1/internal/jobs/{second.id}/claim", {}, secret=PREVIOUS
    )
    with_other = _post(
        client, f"/api/v1/internal/jobs/{second.id}/claim", {}, secret="x" * 48
    )

    assert (with_new, with_old, with_other) == (200, 200, 401)


@pytest.mark.parametrize(
    "header",
    ["", "t=1", "v1=abc", "t=now,n=a,v1=abc", "t=1,n=a,v1=é", "t=1,v1=a", "garbage"],
)
def test_a_malformed_signature_is_refused_not_crashed_on(header: str) -> None:
    with pytest.raises(SignatureRefused):
        verify(header, [WORKER_SECRET], "POST", "/x", b"", MemoryReplayGuard())
