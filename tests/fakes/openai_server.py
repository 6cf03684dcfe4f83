"""A chat-completions server on 127.0.0.1 that a test scripts.

It speaks just enough of the OpenAI wire format for the real ``openai``
client: ``POST /v1/chat/completions`` answered with a JSON completion.
Each request is recorded; each answer is taken from a script of
``Reply`` values, or from the standing reply once the script runs out.

    server.script(Reply.rate_limited(retry_after="0.05"), Reply.normal())
    summarizer = OpenAISummarizer(base_url=server.base_url, ...)
    assert len(server.requests) == 2
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMPLETIONS_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, its body decoded."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def model(self) -> str:
        """The model the client asked for."""
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages, in order."""
        return list(self.body.get("messages", []))

    def content_of(self, role: str) -> str:
        """The content of the messages with ``role``, joined by newlines."""
        return "\n".join(
            str(m.get("content", "")) for m in self.messages if m.get("role") == role
        )


@dataclass(frozen=True)
class Reply:
    """What the server does with one request.

    A reply with ``body=None`` and status 200 is a normal completion whose
    text comes from the server's ``responder``.
    """

    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content: str | None = None

    @classmethod
    def normal(cls, content: str | None = None) -> Reply:
        """A normal completion; ``content`` overrides the responder."""
        return cls(content=content)

    @classmethod
    def rate_limited(cls, retry_after: str = "0.05") -> Reply:
        """A 429 with a ``retry-after`` header in seconds."""
        return cls.error(429, "Rate limit reached.", {"retry-after": retry_after})

    @classmethod
    def server_error(cls, status: int = 500, retry_after: str | None = None) -> Reply:
        """A 5xx; a small ``retry_after`` keeps SDK retries quick in tests."""
        headers = {"retry-after": retry_after} if retry_after else {}
        return cls.error(status, "The server had an error.", headers)

    @classmethod
    def error(
        cls,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> Reply:
        """An error in the API's JSON error shape."""
        body = {"error": {"message": message, "type": "test_error", "code": code}}
        return cls(status=status, body=json.dumps(body).encode(), headers=headers or {})

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        """A normal completion sent only after ``seconds``."""
        return cls(delay=seconds)

    @classmethod
    def malformed(cls, body: bytes | dict[str, Any]) -> Reply:
        """A 200 whose JSON body is broken or is not a completion."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return cls(body=raw)


def echo_responder(request: RecordedRequest, number: int) -> str:
    """A deterministic summary that names the call and counts the words."""
    words = request.content_of("user").split()
    return f"summary {number} of {len(words)} words"


class FakeOpenAIServer:
    """A threaded HTTP server answering chat completions from a script."""

    def __init__(
        self, responder: Callable[[RecordedRequest, int], str] = echo_responder
    ) -> None:
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self.standing_reply = Reply.normal()
        self._script: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._counter = itertools.count(1)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-openai",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """The URL to give the client, as ``OPENAI_BASE_URL`` would be."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def completions(self) -> list[RecordedRequest]:
        """The requests made to the chat-completions route."""
        with self._lock:
            return [r for r in self.requests if r.path == COMPLETIONS_PATH]

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        with self._lock:
            self._script.extend(replies)

    def always(self, reply: Reply) -> None:
        """Answer every request with ``reply`` once the script runs out."""
        with self._lock:
            self.standing_reply = reply

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, waking any reply that is still being delayed."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next_reply(self, request: RecordedRequest) -> tuple[Reply, int]:
        with self._lock:
            self.requests.append(request)
            reply = self._script.popleft() if self._script else self.standing_reply
            return reply, next(self._counter)

    def _completion(self, request: RecordedRequest, reply: Reply, number: int) -> bytes:
        content = reply.content
        if content is None:
            content = self.responder(request, number)
        prompt_tokens = sum(
            len(str(m.get("content", "")).split()) for m in request.messages
        )
        completion_tokens = len(content.split())
        body = {
            "id": f"chatcmpl-fake-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return json.dumps(body).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                request = RecordedRequest(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                if self.path != COMPLETIONS_PATH:
                    with server._lock:
                        server.requests.append(request)
                    self._send(404, Reply.error(404, "No such route.").body or b"")
                    return

                reply, number = server._next_reply(request)
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                payload = reply.body
                if payload is None:
                    payload = server._completion(request, reply, number)
                self._send(reply.status, payload, reply.headers)

            def _send(
                self, status: int, payload: bytes, headers: dict[str, str] | None = None
            ) -> None:
                try:
                    headers = {"content-type": "application/json", **(headers or {})}
                    self.send_response(status)
                    self.send_header("content-length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as timeout tests intend

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler


@contextmanager
def running_openai_server(
    responder: Callable[[RecordedRequest, int], str] = echo_responder,
) -> Iterator[FakeOpenAIServer]:
    """Start a ``FakeOpenAIServer`` and stop it when the block ends."""
    server = FakeOpenAIServer(responder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
