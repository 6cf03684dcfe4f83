"""The worker's gateway as HTTP calls to the API's internal routes.

Each call maps the answer back onto the port's meaning:

    no answer, timeout, 5xx, 429  -> TransientFailure (retry_after from
                                     a Retry-After header)
    404 (the job is gone)         -> claim: None; is_cancel_requested:
                                     True; summarize: JobCancelled;
                                     fetch_file: UnreadableDocument;
                                     reports: nothing to do
    409 on claim                  -> None (not claimable now)
    422 with a reason's code      -> UnreadableDocument(code, message)
    any other answer              -> ApiRefused (a wrong secret, a bad
                                     body: retrying would not help)

Redirects are never followed blindly: requests keeps custom headers on a
redirect to another host, which would hand the worker secret to whoever
serves the file (Cloudinary, say). ``fetch_file`` follows them itself and
sends the secret only to the API's own origin.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from tasks_api.adapters.gateway.signing import SIGNATURE_HEADER, sign
from tasks_api.domain.errors import JobCancelled, TransientFailure, UnreadableDocument
from tasks_api.domain.jobs import JobStage
from tasks_api.ports.gateway import JobGateway, JobTicket

log = logging.getLogger(__name__)

SECRET_HEADER = "x-worker-secret"  # noqa: S105 - a header name, not a secret
MAX_REDIRECTS = 5
CHUNK_SIZE = 1024 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class ApiRefused(Exception):
    """Raised when the API refuses a call for a reason a retry cannot fix."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"The API answered {status} ({code}): {message}")
        self.status = status
        self.code = code


class _Gone(Exception):
    """Raised inside the gateway when the API answers 404 for the job."""


class HttpJobGateway(JobGateway):
    """Reports to the API over HTTP with the shared worker secret.

    ``timeout`` bounds connecting and each read of an ordinary call;
    ``summarize_timeout`` is longer because the API waits on its LLM
    before it answers. Each thread gets a ``requests.Session`` of its
    own (sessions are not thread-safe), so one gateway serves every
    worker thread of a process.
    """

    def __init__(
        self,
        api_url: str,
        worker_secret: str,
        timeout: float = 30.0,
        summarize_timeout: float = 300.0,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._origin = _origin(self._api_url)
        self._secret = worker_secret
        self._timeout = timeout
        self._summarize_timeout = summarize_timeout
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def claim(self, job_id: str) -> JobTicket | None:
        try:
            response = self._call("POST", f"/internal/jobs/{job_id}/claim", job_id)
        except _Gone:
            return None
        if response.status_code == 409:
            return None

        self._check(response)
        body = response.json()
        return JobTicket(
            job_id=str(body["job_id"]),
            media_type=str(body["media_type"]),
            language=str(body["language"]),
            attempt=int(body["attempt"]),
        )

    def fetch_file(self, job_id: str, destination: Path) -> None:
        """Stream the upload to ``destination``, following a redirect safely."""
        url = self._url(f"/internal/jobs/{job_id}/file")
        started = time.perf_counter()

        try:
            with self._follow(url, job_id) as response, destination.open("wb") as out:
                for chunk in response.iter_content(CHUNK_SIZE):
                    out.write(chunk)
        except _Gone:
            destination.unlink(missing_ok=True)
            raise UnreadableDocument(
                "file_missing", "The uploaded file is gone.", job_id=job_id
            ) from None
        except requests.RequestException as error:
            destination.unlink(missing_ok=True)
            raise _unreachable("GET", url, error) from error
        except BaseException:
            destination.unlink(missing_ok=True)
            raise

        log.debug(
            "Fetched the file of job %r (%d bytes) in %.0f ms.",
            job_id,
            destination.stat().st_size,
            (time.perf_counter() - started) * 1000,
        )

    def report_progress(
        self, job_id: str, stage: JobStage, pages_done: int, pages_total: int
    ) -> None:
        self._report(
            f"/internal/jobs/{job_id}/progress",
            job_id,
            {
                "stage": JobStage(stage).value,
                "pages_done": pages_done,
                "pages_total": pages_total,
            },
        )

    def heartbeat(self, job_id: str) -> None:
        self._report(f"/internal/jobs/{job_id}/heartbeat", job_id, None)

    def is_cancel_requested(self, job_id: str) -> bool:
        try:
            response = self._call("GET", f"/jobs/{job_id}/check-cancel", job_id)
        except _Gone:
            return True
        self._check(response)
        return bool(response.json()["cancel"])

    def file_processed(self, job_id: str, text: str) -> None:
        self._report(
            "/webhooks/file-processed", job_id, {"job_id": job_id, "text": text}
        )

    def summarize(self, job_id: str, text: str) -> str:
        try:
            response = self._call(
                "POST",
                "/ai/summarize",
                job_id,
                json={"job_id": job_id, "text": text},
                timeout=self._summarize_timeout,
            )
        except _Gone:
            raise JobCancelled("The job is gone.") from None
        self._check(response)
        return str(response.json()["summary"])

    def summary_ready(self, job_id: str, summary: str) -> None:
        self._report(
            "/webhooks/summary-ready", job_id, {"job_id": job_id, "summary": summary}
        )

    def cancelled(self, job_id: str) -> None:
        self._report(f"/internal/jobs/{job_id}/cancelled", job_id, None)

    def failed(self, job_id: str, code: str, message: str) -> None:
        self._report(
            f"/internal/jobs/{job_id}/failed",
            job_id,
            {"code": code, "message": message},
        )

    def retry_later(self, job_id: str, reason: str, delay_seconds: float) -> None:
        self._report(
            f"/internal/jobs/{job_id}/retry",
            job_id,
            {"reason": reason, "delay_seconds": delay_seconds},
        )

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    @property
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _report(self, path: str, job_id: str, body: dict[str, Any] | None) -> None:
        """A report whose only answer is success; a gone job needs none."""
        try:
            response = self._call("POST", path, job_id, json=body)
        except _Gone:
            return
        self._check(response)

    def _call(
        self,
        method: str,
        path: str,
        job_id: str,
        json: Any = None,
        timeout: float | None = None,
    ) -> requests.Response:
        """One request to the API; raises _Gone on 404, transient faults as such."""
        url = self._url(path)
        body = b"" if json is None else jsonlib.dumps(json).encode()
        started = time.perf_counter()
        try:
            response = self._session.request(
                method,
                url,
                data=body or None,
                headers=self._signed_headers(method, url, body),
                timeout=timeout or self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise _unreachable(method, url, error) from error

        log.debug(
            "%s %s for job %r: %d in %.0f ms.",
            method,
            path,
            job_id,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if response.status_code == 404:
            log.warning(
                "The API has no job %r (%s); dropping this report.",
                job_id,
                _error_of(response)[1],
            )
            raise _Gone
        _raise_if_transient(response, f"{method} {path}")
        return response

    def _follow(self, url: str, job_id: str) -> requests.Response:
        """GET ``url``, following redirects; the secret goes to the API only."""
        for _ in range(MAX_REDIRECTS + 1):
            headers = {}
            if _origin(url) == self._origin:
                headers = self._signed_headers("GET", url, b"")
            response = self._session.get(
                url,
                headers=headers,
                timeout=self._timeout,
                stream=True,
                allow_redirects=False,
            )
            if response.status_code in REDIRECTS and "Location" in response.headers:
                response.close()
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status_code == 404:
                response.close()
                raise _Gone
            _raise_if_transient(response, f"GET file of job {job_id!r}")
            self._check(response)
            return response
        raise ApiRefused(310, "too_many_redirects", f"More than {MAX_REDIRECTS}.")

    def _check(self, response: requests.Response) -> None:
        """Raise for any answer other than success."""
        if response.ok:
            return
        status = response.status_code
        code, message = _error_of(response)
        response.close()
        if status == 422 and code not in {"invalid_input", "error"}:
            raise UnreadableDocument(code, message)
        raise ApiRefused(status, code, message)

    def _signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        """The secret, and a signature of this very request (see signing.py)."""
        parts = urlsplit(url)
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        headers = {
            SECRET_HEADER: self._secret,
            SIGNATURE_HEADER: sign(self._secret, method, path, body),
        }
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def _url(self, path: str) -> str:
        return f"{self._api_url}/api/v1{path}"


def _raise_if_transient(response: requests.Response, what: str) -> None:
    status = response.status_code
    if status != 429 and status < 500:
        return
    code, message = _error_of(response)
    response.close()
    retry_after = _retry_after(response.headers.get("Retry-After"))
    log.warning(
        "The API answered %d to %s (%s); the job will be retried.",
        status,
        what,
        code,
    )
    raise TransientFailure(
        f"The API is busy or failing ({status}): {message}",
        retry_after=retry_after,
    )


def _unreachable(method: str, url: str, error: Exception) -> TransientFailure:
    log.warning(
        "Could not reach the API for %s %s (%s); the job will be retried.",
        method,
        url,
        type(error).__name__,
    )
    return TransientFailure(f"The API could not be reached: {type(error).__name__}.")


def _error_of(response: requests.Response) -> tuple[str, str]:
    """The code and message of our error JSON, or stand-ins for other bodies."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return body["code"], str(body.get("message", ""))
    return "error", f"HTTP {response.status_code}"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port
