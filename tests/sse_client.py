"""A small Server-Sent Events reader over requests, for tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests


@dataclass
class Event:
    id: int | None
    type: str
    data: dict


@dataclass
class Stream:
    response: requests.Response
    comments: list[str] = field(default_factory=list)
    retry: int | None = None

    def events(self) -> Iterator[Event]:
        """Parse events until the server ends the stream."""
        fields: dict[str, str] = {}
        for raw in self.response.iter_lines(decode_unicode=True):
            line = raw or ""
            if not line:
                if "data" in fields or "event" in fields:
                    yield Event(
                        id=int(fields["id"]) if "id" in fields else None,
                        type=fields.get("event", "message"),
                        data=json.loads(fields.get("data", "null")),
                    )
                fields = {}
            elif line.startswith(":"):
                self.comments.append(line[1:].strip())
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "retry":
                    self.retry = int(value)
                else:
                    fields[name] = value

    def close(self) -> None:
        self.response.close()


def open_stream(
    url: str,
    token: str | None = None,
    last_event_id: int | None = None,
    timeout: float = 30,
) -> Stream:
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    response = requests.get(url, headers=headers, stream=True, timeout=timeout)
    return Stream(response)


FINAL = {"succeeded", "failed", "cancelled"}


def until_final(stream: Stream) -> list[Event]:
    """Every event up to and including the final status."""
    seen = []
    for event in stream.events():
        seen.append(event)
        if event.type == "status" and event.data["status"] in FINAL:
            break
    return seen
