"""A Cloudinary stand-in on 127.0.0.1 for the real ``cloudinary`` SDK.

It answers the three calls the file store makes, at the paths the SDK
builds from its ``upload_prefix``:

    POST /v1_1/<cloud>/<resource_type>/upload    multipart, signed
    POST /v1_1/<cloud>/<resource_type>/destroy   multipart, signed
    GET  /v1_1/<cloud>/<resource_type>/download  signed query, expiring

Every call must carry our api_key, a fresh timestamp and a signature that
matches the api_secret (SHA-1 or SHA-256, told apart by length); anything
else is answered 401 the way Cloudinary does. Uploaded bytes live in
memory, keyed by resource type, delivery type and public id, so a file
uploaded as ``private`` is not found as ``upload``. A test can script
failures and slow answers per operation:

    with FakeCloudinary() as server:
        server.script("download", status=500)
        server.script("upload", delay=1.0)
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

API_PATH = re.compile(
    r"^/v1_1/(?P<cloud>[^/]+)/(?P<resource_type>image|raw|video|auto)"
    r"/(?P<action>upload|destroy|download)$"
)
UNSIGNED_FIELDS = frozenset({"signature", "api_key", "file"})
STALE_AFTER = 3600


@dataclass
class StoredAsset:
    """One uploaded file, as the fake keeps it."""

    public_id: str
    resource_type: str
    type: str
    data: bytes
    version: int


@dataclass(frozen=True)
class Call:
    """One call the fake answered: its operation and its parameters."""

    operation: str
    resource_type: str
    params: dict[str, str]


@dataclass(frozen=True)
class Fault:
    """A scripted answer: wait ``delay`` seconds, then fail with ``status``."""

    status: int | None
    delay: float


class FakeCloudinary:
    """A threaded HTTP server holding uploads in memory."""

    def __init__(
        self,
        cloud_name: str = "fake-cloud",
        api_key: str = "123456789012345",
        api_secret: str = "fake-secret",
    ) -> None:
        self.cloud_name = cloud_name
        self.api_key = api_key
        self.api_secret = api_secret
        self.assets: dict[tuple[str, str, str], StoredAsset] = {}
        self.calls: list[Call] = []
        self._faults: dict[str, collections.deque[Fault]] = collections.defaultdict(
            collections.deque
        )
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-cloudinary",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The prefix to give the SDK as ``upload_prefix``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; a scripted delay in progress ends at once."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every asset, call and pending fault."""
        with self._lock:
            self.assets.clear()
            self.calls.clear()
            self._faults.clear()

    def script(
        self,
        operation: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``operation`` slow or failing."""
        with self._lock:
            for _ in range(times):
                self._faults[operation].append(Fault(status, delay))

    def calls_of(self, operation: str) -> list[Call]:
        """The calls answered so far for one operation, in order."""
        with self._lock:
            return [call for call in self.calls if call.operation == operation]

    def handle(
        self, method: str, path: str, params: dict[str, str], file: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: status, headers and body."""
        match = API_PATH.match(path)
        expected = "GET" if match and match["action"] == "download" else "POST"
        if match is None or method != expected:
            return _error(404, f"No route for {method} {path}")
        action = match["action"]
        resource_type = match["resource_type"]

        with self._lock:
            fault = self._faults[action].popleft() if self._faults[action] else None
            self.calls.append(Call(action, resource_type, dict(params)))
        if fault is not None:
            self._stopping.wait(fault.delay)
            if fault.status is not None:
                return _error(fault.status, f"Scripted failure of {action}")

        refusal = self._refusal(match["cloud"], params, action)
        if refusal is not None:
            return _error(401, refusal)

        if action == "upload":
            return self._upload(resource_type, params, file)
        if action == "destroy":
            return self._destroy(resource_type, params)
        return self._download(resource_type, params)

    def _refusal(self, cloud: str, params: dict[str, str], action: str) -> str | None:
        """Why a call is refused, or None when it is properly signed."""
        if cloud != self.cloud_name:
            return f"Invalid cloud_name {cloud}"
        if params.get("api_key") != self.api_key:
            return "Invalid api_key"
        timestamp = params.get("timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > STALE_AFTER:
            return f"Stale request - timestamp {timestamp!r}"
        signature = params.get("signature", "")
        expected = self.signature_of(params, long=len(signature) == 64)
        if not hmac.compare_digest(signature, expected):
            return f"Invalid Signature {signature}."
        if action == "download":
            expires_at = params.get("expires_at", "")
            if not expires_at.isdigit():
                return "A download URL must carry expires_at"
            if int(expires_at) <= time.time():
                return "The download URL has expired"
        return None

    def signature_of(self, params: dict[str, str], *, long: bool = False) -> str:
        """The signature Cloudinary expects for ``params``.

        The signed fields are sorted, written ``name=value`` with ``&``
        escaped, joined by ``&`` and hashed with the secret appended.
        """
        fields = sorted(
            f"{name}={value}".replace("&", "%26")
            for name, value in params.items()
            if name not in UNSIGNED_FIELDS and value
        )
        text = "&".join(fields) + self.api_secret
        digest = hashlib.sha256 if long else hashlib.sha1
        return digest(text.encode()).hexdigest()

    def _upload(
        self, resource_type: str, params: dict[str, str], file: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        if file is None:
            return _error(400, "Missing required parameter - file")
        if not file:
            return _error(400, "Empty file")
        if resource_type == "auto":
            resource_type = "raw"
        public_id = params.get("public_id") or uuid.uuid4().hex[:20]
        delivery_type = params.get("type") or "upload"
        version = int(time.time())
        asset = StoredAsset(public_id, resource_type, delivery_type, file, version)
        with self._lock:
            self.assets[(resource_type, delivery_type, public_id)] = asset

        delivery = (
            f"{self.url}/{self.cloud_name}/{resource_type}/{delivery_type}"
            f"/v{version}/{public_id}"
        )
        return _json(
            200,
            {
                "asset_id": uuid.uuid4().hex,
                "public_id": public_id,
                "version": version,
                "version_id": uuid.uuid4().hex,
                "signature": hashlib.sha1(file).hexdigest(),
                "resource_type": resource_type,
                "type": delivery_type,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "bytes": len(file),
                "tags": [],
                "etag": hashlib.md5(file).hexdigest(),
                "placeholder": False,
                "url": delivery,
                "secure_url": delivery,
                "original_filename": params.get("filename", "file"),
                "api_key": self.api_key,
            },
        )

    def _destroy(
        self, resource_type: str, params: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        public_id = params.get("public_id", "")
        key = (resource_type, params.get("type") or "upload", public_id)
        with self._lock:
            removed = self.assets.pop(key, None)
        return _json(200, {"result": "ok" if removed else "not found"})

    def _download(
        self, resource_type: str, params: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        public_id = params.get("public_id", "")
        key = (resource_type, params.get("type") or "upload", public_id)
        with self._lock:
            asset = self.assets.get(key)
        if asset is None:
            return _error(404, f"Resource not found - {public_id}")

        headers = {"Content-Type": "application/octet-stream"}
        if params.get("attachment") in ("1", "true"):
            name = asset.public_id.rsplit("/", 1)[-1]
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return 200, headers, asset.data


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeCloudinary/1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self._answer("GET", url.path, dict(parse_qsl(url.query)), None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        fields = parse_multipart(body, self.headers.get("Content-Type", ""))
        file = fields.pop("file", None)
        params = {name: value.decode() for name, value in fields.items()}
        self._answer("POST", urlsplit(self.path).path, params, file)

    def _answer(
        self, method: str, path: str, params: dict[str, str], file: bytes | None
    ) -> None:
        fake: FakeCloudinary = self.server.fake  # type: ignore[attr-defined]
        status, headers, body = fake.handle(method, path, params, file)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # The client gave up waiting, as a timeout test intends.

    def log_message(self, format: str, *args: Any) -> None:
        pass


def parse_multipart(body: bytes, content_type: str) -> dict[str, bytes]:
    """The fields of a ``multipart/form-data`` body, byte for byte."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        return {}
    delimiter = b"--" + match[1].encode()

    fields: dict[str, bytes] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'[; ]name="([^"]*)"', head)
        if name is not None:
            fields[name[1].decode()] = content.removesuffix(b"\r\n")
    return fields


def _json(status: int, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    return _json(status, {"error": {"message": message}})
