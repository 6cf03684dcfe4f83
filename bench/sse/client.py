"""Thousands of Server-Sent Events streams from one asyncio loop.

Each stream is an ``asyncio.Protocol`` on a raw socket: it sends one
HTTP/1.1 request, decodes the chunked body and splits it into events
itself, which costs a few KB per stream and a few microseconds per
event, where a thread per stream would cost a stack each.

A stream stamps each read with ``time.monotonic()`` before doing any
work on it, so an event's arrival time is when the loop got to its
socket. Under load the loop may get there late: the figures then
include the bench's own queueing, never less than the server's.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable

HOST = "127.0.0.1"


class StreamRefused(Exception):
    """The server answered something other than an open event stream."""


class ChunkedBody:
    """An HTTP/1.1 chunked body, decoded as its bytes arrive."""

    def __init__(self) -> None:
        self._raw = bytearray()
        self._left = 0  # payload bytes still to come in this chunk
        self._skip = 0  # bytes of the CRLF after a chunk still to skip
        self.finished = False

    def feed(self, data: bytes) -> bytes:
        raw = self._raw
        raw += data
        out = bytearray()
        pos = 0
        while pos < len(raw) and not self.finished:
            if self._skip:
                step = min(self._skip, len(raw) - pos)
                pos += step
                self._skip -= step
            elif self._left:
                step = min(self._left, len(raw) - pos)
                out += raw[pos : pos + step]
                pos += step
                self._left -= step
                if not self._left:
                    self._skip = 2
            else:
                end = raw.find(b"\r\n", pos)
                if end < 0:
                    break
                size = int(bytes(raw[pos:end]).split(b";")[0], 16)
                pos = end + 2
                if size == 0:
                    self.finished = True
                self._left = size
        del raw[:pos]
        return bytes(out)


class PlainBody:
    """A body that is not chunked: every byte is payload."""

    finished = False

    def feed(self, data: bytes) -> bytes:
        return data


EventHandler = Callable[["SseStream", int, bytes, float], None]


class SseStream(asyncio.Protocol):
    """One open ``GET .../live``; calls ``on_event`` for every event.

    ``ready`` resolves when the ``retry:`` line arrives: the server sends
    it only after the stream has subscribed to the job, so any event
    published later reaches this stream.
    """

    def __init__(self, request: bytes, on_event: EventHandler) -> None:
        self._request = request
        self._on_event = on_event
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A stream cut off while its opener is being cancelled (Ctrl-C) has
        # no reader left for the failure; mark it seen so asyncio stays quiet.
        self.ready.add_done_callback(_retrieve)
        self.ready_at: float | None = None
        self.closed = False
        self.heartbeats = 0
        self.events = 0
        self.seen: Counter[str] = Counter()  # measured events, by phase
        self.transport: asyncio.Transport | None = None
        self._head = bytearray()
        self._body: ChunkedBody | PlainBody | None = None
        self._text = bytearray()

    @property
    def live(self) -> bool:
        return self.ready_at is not None and not self.closed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self._request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self._body is None:
            data = self._read_head(data)
            if self._body is None:
                return
        text = self._body.feed(data)
        if text:
            self._split_events(text, now)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(
                StreamRefused(f"connection closed before the stream opened: {exc}")
            )

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _read_head(self, data: bytes) -> bytes:
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            return b""
        head = bytes(self._head[:end])
        rest = bytes(self._head[end + 4 :])
        self._head = bytearray()

        status_line = head.split(b"\r\n", 1)[0]
        parts = status_line.split(b" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if status != 200:
            if not self.ready.done():
                self.ready.set_exception(StreamRefused(f"HTTP {status}"))
            self.abort()
            return b""
        chunked = b"transfer-encoding: chunked" in head.lower()
        self._body = ChunkedBody() if chunked else PlainBody()
        return rest

    def _split_events(self, text: bytes, now: float) -> None:
        buffer = self._text
        buffer += text
        start = 0
        while True:
            end = buffer.find(b"\n\n", start)
            if end < 0:
                break
            self._handle_block(bytes(buffer[start:end]), now)
            start = end + 2
        del buffer[:start]

    def _handle_block(self, block: bytes, now: float) -> None:
        if block.startswith(b":"):
            self.heartbeats += 1
            return

        seq = 0
        data = None
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data = line[5:].strip()
            elif line.startswith(b"id:"):
                seq = int(line[3:])
            elif line.startswith(b"retry:") and self.ready_at is None:
                self.ready_at = now
                if not self.ready.done():
                    self.ready.set_result(None)
        if data is not None:
            self.events += 1
            self._on_event(self, seq, data, now)


class FanoutRecorder:
    """Publish-to-arrival latency of the bench's measured events.

    A measured event carries ``bench_round`` and ``bench_sent`` (the
    publisher's ``time.monotonic()``, taken in this same process). Only
    streams that were open before it was sent count; one that opened
    later got it from storage as history, which is not live delivery.
    """

    def __init__(self) -> None:
        self.phase = ""
        self.samples: dict[str, list[float]] = {}
        self._round: int | None = None
        self._expected = 0
        self._arrived = 0
        self._done: asyncio.Future[None] | None = None

    def expect(self, phase: str, round_number: int, streams: int) -> asyncio.Future:
        """Start a round; the future resolves when ``streams`` have it."""
        self.phase = phase
        self.samples.setdefault(phase, [])
        self._round = round_number
        self._expected = streams
        self._arrived = 0
        self._done = asyncio.get_running_loop().create_future()
        return self._done

    def missing(self) -> int:
        return self._expected - self._arrived

    def on_event(self, stream: SseStream, seq: int, data: bytes, now: float) -> None:
        if b"bench_sent" not in data:
            return
        body = json.loads(data)
        if body.get("bench_round") != self._round:
            return
        sent = body["bench_sent"]
        if stream.ready_at is None or stream.ready_at > sent:
            return

        self.samples[self.phase].append(now - sent)
        stream.seen[self.phase] += 1
        self._arrived += 1
        if self._arrived >= self._expected and self._done and not self._done.done():
            self._done.set_result(None)


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def stream_request(port: int, job_id: str, token: str) -> bytes:
    return (
        f"GET /api/v1/jobs/{job_id}/live HTTP/1.1\r\n"
        f"Host: {HOST}:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        "\r\n"
    ).encode()


async def open_streams(
    port: int,
    requests: list[bytes],
    on_event: EventHandler,
    concurrency: int,
    timeout: float,
) -> tuple[list[SseStream], Counter[str]]:
    """Open one stream per request, ``concurrency`` handshakes at a time.

    Returns the streams that opened and a count of the failures by kind.
    """
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    failures: Counter[str] = Counter()

    async def open_one(request: bytes) -> SseStream | None:
        async with gate:
            stream = SseStream(request, on_event)
            try:
                await asyncio.wait_for(
                    loop.create_connection(lambda: stream, HOST, port), timeout
                )
                await asyncio.wait_for(asyncio.shield(stream.ready), timeout)
            except (OSError, TimeoutError, StreamRefused) as error:
                failures[_kind(error)] += 1
                stream.abort()
                return None
            return stream

    opened = await asyncio.gather(*(open_one(request) for request in requests))
    return [stream for stream in opened if stream is not None], failures


def _kind(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
