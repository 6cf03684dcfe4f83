"""A file store on Cloudinary, for the production way of running."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO, cast

import cloudinary.uploader
import cloudinary.utils
import requests
from cloudinary import exceptions as sdk_errors

from tasks_api.adapters.files.keys import check_key
from tasks_api.domain.errors import TransientFailure, UnreadableDocument
from tasks_api.ports.files import FileStore, StoredFile

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.cloudinary.com"
RESOURCE_TYPE = "raw"
DELIVERY_TYPE = "private"
CHUNK_SIZE = 256 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024


class CloudinaryRefused(Exception):
    """Raised when Cloudinary refuses a call that retrying would not change.

    A wrong api_key or api_secret (401), a forbidden or malformed call
    (400, 403): the fault is in our configuration, not in the document or
    the network, so it is neither retried nor blamed on the upload.
    """


class CloudinaryFileStore(FileStore):
    """Keeps files on Cloudinary as private raw assets named by our keys.

    ``raw`` keeps the bytes exactly as sent, whatever they are, and fixes
    the resource type, so deleting or downloading needs nothing but the
    key. (``auto`` would file PDFs and images as ``image`` assets, which
    the store would then have to remember per key.) ``private`` assets
    have no public delivery URL; they are read only through the download
    API with a signed URL that expires after ``url_ttl`` seconds.

    Every call, the download included, goes to the API host ``api_url``
    (the SDK's ``upload_prefix``); the delivery CDN (res.cloudinary.com)
    is never used, so pointing ``api_url`` at a server on 127.0.0.1 moves
    the whole adapter there. Credentials are given to each SDK call, so
    the SDK's global configuration is neither read nor changed.

    Limits: the SDK reads a whole upload into memory before sending it,
    which is fine under the API's upload size limit but not for files of
    hundreds of megabytes (those need the SDK's chunked upload). The
    download API names the file after the key's last segment, not after
    the client's filename; with ``direct_downloads=False`` the API streams
    the bytes itself and can name the file as it likes. Cloudinary refuses
    an empty file (``CloudinaryRefused``), so empty uploads must be turned
    away before they reach ``save``. ``timeout`` bounds the connection and
    each read, not a whole transfer.
    """

    def __init__(
        self,
        cloud_name: str,
        api_key: str,
        api_secret: str,
        *,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 10.0,
        url_ttl: int = 300,
        direct_downloads: bool = True,
        signature_algorithm: str = "sha1",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (cloud_name and api_key and api_secret):
            raise ValueError("Cloudinary needs a cloud name, an api key and a secret.")
        self.cloud_name = cloud_name
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.url_ttl = url_ttl
        self.direct_downloads = direct_downloads
        self._clock = clock
        self._options: dict[str, object] = {
            "cloud_name": cloud_name,
            "api_key": api_key,
            "api_secret": api_secret,
            "upload_prefix": self.api_url,
            "signature_algorithm": signature_algorithm,
            "signature_version": 2,
            "oauth_token": None,
            "resource_type": RESOURCE_TYPE,
            "type": DELIVERY_TYPE,
        }

    def save(self, key: str, source: BinaryIO, media_type: str) -> StoredFile:
        """Upload the bytes of ``source`` as the private raw asset ``key``.

        ``media_type`` is not sent: a raw asset keeps none, and the
        attachment record already holds it.
        """
        check_key(key)
        data = source.read()
        started = time.monotonic()

        try:
            result = cloudinary.uploader.upload(
                (key.rsplit("/", 1)[-1], data),
                public_id=key,
                overwrite=True,
                unique_filename=False,
                use_filename=False,
                upload_preset=None,
                timeout=self.timeout,
                **self._options,
            )
        except sdk_errors.Error as error:
            raise self._failure("upload", key, started, error) from error

        stored = result.get("bytes")
        if stored != len(data):
            failure = TransientFailure(
                f"Cloudinary stored {stored} of {len(data)} bytes.", key=key
            )
            _log_failure("upload", key, started, "size mismatch", failure)
            raise failure
        _log_call("upload", key, started, f"ok, {len(data)} bytes")
        return StoredFile(key=key, size=len(data))

    def fetch(self, key: str, destination: Path) -> None:
        """Download the file through a fresh signed URL to ``destination``.

        A failed download leaves no partial file at ``destination``.
        """
        try:
            with destination.open("wb") as copy:
                self._download(key, copy)
        except BaseException:
            destination.unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        """The file's bytes, downloaded first into a spooled temporary file.

        Up to 8 MiB stay in memory, beyond that on disk. Downloading before
        returning means a failure shows before any byte reaches a client.
        """
        # The caller closes the spool; it outlives this call on purpose.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        try:
            self._download(key, cast(IO[bytes], spool))
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return cast(BinaryIO, spool)

    def download_url(self, key: str, filename: str) -> str | None:
        """A signed download URL that expires after ``url_ttl`` seconds.

        None when ``direct_downloads`` is off. ``filename`` cannot be
        passed on: the download API names the file after the key.
        """
        check_key(key)
        if not self.direct_downloads:
            return None
        return self._signed_url(key)

    def delete(self, key: str) -> None:
        """Destroy the asset; an asset Cloudinary does not know is gone."""
        check_key(key)
        started = time.monotonic()

        try:
            result = cloudinary.uploader.destroy(
                key, timeout=self.timeout, **self._options
            )
        except sdk_errors.NotFound:
            result = {"result": "not found"}
        except sdk_errors.Error as error:
            raise self._failure("destroy", key, started, error) from error

        outcome = result.get("result")
        if outcome not in ("ok", "not found"):
            failure = TransientFailure(
                f"Cloudinary answered {outcome!r} to a destroy.", key=key
            )
            _log_failure("destroy", key, started, f"{outcome!r}", failure)
            raise failure
        _log_call("destroy", key, started, str(outcome))

    def _signed_url(self, key: str) -> str:
        """A private download URL signed with our secret, soon expiring."""
        expires_at = int(self._clock()) + self.url_ttl
        return str(
            cloudinary.utils.private_download_url(
                key, "", attachment=True, expires_at=expires_at, **self._options
            )
        )

    def _download(self, key: str, target: IO[bytes]) -> None:
        """Write the asset's bytes to ``target``, or raise what went wrong."""
        check_key(key)
        url = self._signed_url(key)
        started = time.monotonic()

        try:
            with requests.get(
                url, stream=True, timeout=(self.timeout, self.timeout)
            ) as response:
                if response.status_code != 200:
                    raise self._refusal(key, started, response)
                size = 0
                for chunk in response.iter_content(CHUNK_SIZE):
                    target.write(chunk)
                    size += len(chunk)
        except requests.RequestException as error:
            failure = TransientFailure(
                f"Could not download from Cloudinary: {error}", key=key
            )
            _log_failure("download", key, started, repr(error), failure)
            raise failure from error

        _log_call("download", key, started, f"ok, {size} bytes")

    def _refusal(
        self, key: str, started: float, response: requests.Response
    ) -> Exception:
        """The error for a download answered with anything but 200."""
        status = response.status_code
        message = _error_message(response)
        error: Exception
        if status == 404:
            error = UnreadableDocument(
                "file_missing", "The stored file is gone.", key=key
            )
        elif status in (420, 429) or status >= 500:
            error = TransientFailure(
                f"Cloudinary answered {status} to a download: {message}",
                retry_after=_retry_after(response),
                key=key,
            )
        else:
            error = CloudinaryRefused(
                f"Cloudinary refused a download of {key!r} ({status}): {message}"
            )
        _log_failure("download", key, started, f"status {status}", error)
        return error

    def _failure(
        self, operation: str, key: str, started: float, error: Exception
    ) -> Exception:
        """The error to raise for an exception from the SDK."""
        retryable = (sdk_errors.RateLimited, sdk_errors.GeneralError)
        failure: Exception
        # The SDK raises its base Error for network failures and for
        # answers that are not JSON (a proxy's 502 page, say).
        if isinstance(error, retryable) or type(error) is sdk_errors.Error:
            failure = TransientFailure(
                f"Cloudinary {operation} failed: {error}", key=key
            )
        else:
            failure = CloudinaryRefused(
                f"Cloudinary refused {operation} of {key!r}: {error}"
            )
        _log_failure(operation, key, started, repr(error), failure)
        return failure


def _log_call(operation: str, key: str, started: float, outcome: str) -> None:
    """One line per call to Cloudinary: what, which key, how, how long."""
    log.info(
        "Cloudinary %s of %r: %s in %.0f ms.",
        operation,
        key,
        outcome,
        (time.monotonic() - started) * 1000,
    )


def _log_failure(
    operation: str, key: str, started: float, cause: str, error: Exception
) -> None:
    """The line for a failed call, saying what the caller is told."""
    next_step = (
        "the caller may retry"
        if isinstance(error, TransientFailure)
        else "retrying will not help"
    )
    log.warning(
        "Cloudinary %s of %r failed (%s) in %.0f ms; raising %s, %s.",
        operation,
        key,
        cause,
        (time.monotonic() - started) * 1000,
        type(error).__name__,
        next_step,
    )


def _error_message(response: requests.Response) -> str:
    """Cloudinary's own error message, or the start of the body."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _retry_after(response: requests.Response) -> float | None:
    """The delay a ``Retry-After`` header asks for, in seconds."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
