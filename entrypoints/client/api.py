"""The public API over HTTP, and a job's live stream read as events."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from tasks_api.entrypoints.client.errors import ApiError, ClientError

log = logging.getLogger(__name__)

API_PATH = "/api/v1"

# (connect, read) seconds. A live stream sends a heartbeat every 15 s by
# default, so a minute of silence means the connection is gone.
TIMEOUT = (10, 60)
UPLOAD_TIMEOUT = (10, 300)
STREAM_TIMEOUT = (10, 90)


@dataclass
class Event:
    """One server-sent event of a job's live stream."""

    id: int | None
    type: str
    data: dict[str, Any]


class ApiClient:
    """The public API at ``url``, as one person (``token``) sees it."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "tasks-api-client"

    def call(
        self,
        method: str,
        path: str,
        timeout: tuple[float, float] = TIMEOUT,
        **kwargs: Any,
    ) -> Any:
        """Send a request; the decoded JSON answer, or None for a 204."""
        response = self._send(method, path, timeout=timeout, **kwargs)
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:
            raise ClientError(
                f"{method} {path}: the server did not answer with JSON"
            ) from None

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        target = f"{self.url}{API_PATH}{path}"
        started = time.perf_counter()
        try:
            response = self.http.request(method, target, headers=headers, **kwargs)
        except requests.RequestException as error:
            raise ClientError(f"cannot reach {self.url}: {_reason(error)}") from None

        log.debug(
            "%s %s answered %d in %.0f ms",
            method,
            target,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if response.status_code >= 400:
            signed_out = response.status_code == 401 and self.token
            raise ApiError(
                response.status_code,
                _json_or_none(response),
                f"{response.status_code} {response.reason}",
                "Log in again with `tasks-api login`." if signed_out else "",
            )
        return response

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a list, following ``next_cursor``."""
        params = dict(params)
        while True:
            page = self.call("GET", path, params=params)
            yield page
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def events(self, job_id: str, after: int = 0) -> Iterator[Event]:
        """The job's events after event ``after``, until the stream ends."""
        headers = {"Accept": "text/event-stream"}
        if after:
            headers["Last-Event-ID"] = str(after)
        response = self._send(
            "GET",
            f"/jobs/{job_id}/live",
            headers=headers,
            stream=True,
            timeout=STREAM_TIMEOUT,
        )
        with response:
            if response.status_code == 204:
                return
            response.encoding = "utf-8"
            yield from parse_events(response.iter_lines(decode_unicode=True))


def parse_events(lines: Iterator[str]) -> Iterator[Event]:
    """Server-sent events from the stream's lines; comments are skipped."""
    fields: dict[str, str] = {}
    for line in lines:
        if line:
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if "data" in fields:
            raw_id = fields.get("id", "")
            yield Event(
                id=int(raw_id) if raw_id.isdigit() else None,
                type=fields.get("event", "message"),
                data=json.loads(fields["data"]),
            )
        fields = {}


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "it did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "the connection failed (is the server running?)"
    return type(error).__name__


def _json_or_none(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
