"""Signed worker requests: an HMAC of the request with a timestamp.

    x-worker-signature: t=1733240000,n=<random nonce>,v1=<hex HMAC-SHA256>

The MAC covers ``t``, the nonce, the method, the path with its query and
the body, keyed with the worker secret. The API rejects a signature older
than ``max_age`` seconds (or that far in the future) and a nonce it has
already seen, so a captured request cannot be sent again, while two equal
reports in the same second are still two requests. During a rotation the
API accepts the current and the previous secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Protocol

SIGNATURE_HEADER = "x-worker-signature"
DEFAULT_MAX_AGE = 300


class SignatureRefused(Exception):
    """Raised when a signature is malformed, stale, replayed or wrong."""


def _mac(
    secret: str, timestamp: int, nonce: str, method: str, path: str, body: bytes
) -> str:
    message = b"\n".join(
        [
            str(timestamp).encode(),
            nonce.encode(),
            method.upper().encode(),
            path.encode(),
            body,
        ]
    )
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(
    secret: str, method: str, path: str, body: bytes, now: float | None = None
) -> str:
    """The signature header value for one request."""
    timestamp = int(time.time() if now is None else now)
    nonce = secrets.token_hex(12)
    mac = _mac(secret, timestamp, nonce, method, path, body)
    return f"t={timestamp},n={nonce},v1={mac}"


class ReplayGuard(Protocol):
    def first_time(self, signature: str, ttl: int) -> bool:
        """True the first time a signature is seen within ``ttl`` seconds."""


class MemoryReplayGuard:
    """Remembers signatures in this process; enough with one API process."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str, ttl: int) -> bool:
        now = time.monotonic()
        with self._lock:
            self._seen = {s: t for s, t in self._seen.items() if t > now}
            if signature in self._seen:
                return False
            self._seen[signature] = now + ttl
            return True


class RedisReplayGuard:
    """Remembers signatures in Redis, shared by every API process."""

    def __init__(self, client: object, prefix: str = "tasks-api:signature:") -> None:
        self._client = client
        self._prefix = prefix

    def first_time(self, signature: str, ttl: int) -> bool:
        return bool(self._client.set(self._prefix + signature, 1, nx=True, ex=ttl))  # type: ignore[attr-defined]


def verify(
    header: str,
    keys: Iterable[str],
    method: str,
    path: str,
    body: bytes,
    replay_guard: ReplayGuard,
    max_age: int = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> None:
    """Accept a signature made with any of ``keys``; raise ``SignatureRefused``."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        nonce = fields["n"]
        given = fields["v1"]
    except (KeyError, ValueError) as error:
        raise SignatureRefused("The signature is malformed.") from error
    if not (given.isascii() and nonce.isascii()):
        raise SignatureRefused("The signature is malformed.")

    current = time.time() if now is None else now
    if abs(current - timestamp) > max_age:
        raise SignatureRefused("The signature is too old or from the future.")
    if not any(
        hmac.compare_digest(given, _mac(key, timestamp, nonce, method, path, body))
        for key in keys
    ):
        raise SignatureRefused("The signature does not match.")
    if not replay_guard.first_time(nonce, ttl=2 * max_age):
        raise SignatureRefused("The signature was used before.")
