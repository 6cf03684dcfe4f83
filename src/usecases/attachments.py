"""Attaching files to tasks; each upload becomes a job that reads it."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import BinaryIO

from tasks_api.domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    TooLarge,
    TooMany,
    UnsupportedMedia,
)
from tasks_api.domain.jobs import Attachment, Job
from tasks_api.domain.listing import Page, PageRequest
from tasks_api.domain.media import sniff_media_type
from tasks_api.domain.model import Task, new_id
from tasks_api.ports.files import FileStore
from tasks_api.ports.queue import JobQueue
from tasks_api.ports.storage import Storage
from tasks_api.usecases.jobs import JobEvents

log = logging.getLogger(__name__)

SNIFF_BYTES = 8192
MAX_FILENAME_LENGTH = 255
_LANGUAGE = re.compile(r"^[a-z_]{3,16}(\+[a-z_]{3,16}){0,4}$")


@dataclass(frozen=True)
class Upload:
    """An accepted upload: the attachment and the job that reads it."""

    attachment: Attachment
    job: Job
    replayed: bool = False


@dataclass(frozen=True)
class Download:
    attachment: Attachment
    url: str | None
    stream: BinaryIO | None


class AttachmentCleanup:
    """Removes the attachments, jobs, events and files of deleted tasks.

    Called after the tasks themselves are gone, so nothing it removes is
    reachable any more; a job still running for one of them finds its
    record missing and stops at its next report.
    """

    def __init__(self, storage: Storage, files: FileStore) -> None:
        self._storage = storage
        self._files = files

    def __call__(self, task_ids: Collection[str]) -> None:
        if not task_ids:
            return

        attachments = self._storage.attachments.delete_by_tasks(task_ids)
        job_ids = self._storage.jobs.delete_by_attachments([a.id for a in attachments])
        self._storage.job_events.delete_by_jobs(job_ids)

        for attachment in attachments:
            self._files.delete(attachment.storage_key)
        log.info(
            "Removed %d attachment(s) and %d job(s) of %d deleted task(s).",
            len(attachments),
            len(job_ids),
            len(task_ids),
        )


class AttachmentService:
    def __init__(
        self,
        storage: Storage,
        files: FileStore,
        queue: JobQueue,
        events: JobEvents,
        languages: Callable[[], frozenset[str]],
        max_upload_bytes: int,
        max_jobs_in_flight: int = 20,
    ) -> None:
        self._storage = storage
        self._files = files
        self._queue = queue
        self._events = events
        self._languages = languages
        self._max_upload_bytes = max_upload_bytes
        self._max_jobs_in_flight = max_jobs_in_flight

    def upload(
        self,
        owner_id: str,
        task_id: str,
        filename: str,
        stream: BinaryIO,
        language: str = "eng",
        idempotency_key: str | None = None,
    ) -> Upload:
        """Keep the file and queue a job to read it.

        With an ``idempotency_key`` a retried upload answers what the first
        one did instead of creating a second attachment and job; a refused
        upload frees its key, so the corrected file can be sent with it.
        """
        task = self._storage.tasks.get(owner_id, task_id)
        if task is None:
            raise NotFound("No such task.", task_id=task_id)
        self._check_language(language)

        attachment_id = new_id()
        if idempotency_key is not None:
            earlier = self._storage.idempotency.reserve(
                owner_id, idempotency_key, attachment_id
            )
            if earlier is not None:
                return self._replay(owner_id, earlier)

        try:
            return self._accept(
                owner_id, task, attachment_id, filename, stream, language
            )
        except DomainError:
            if idempotency_key is not None:
                self._storage.idempotency.release(
                    owner_id, idempotency_key, attachment_id
                )
            raise

    def _accept(
        self,
        owner_id: str,
        task: Task,
        attachment_id: str,
        filename: str,
        stream: BinaryIO,
        language: str,
    ) -> Upload:
        """Check, keep and queue one upload; the key, if any, is reserved."""
        if self._storage.jobs.count_unfinished(owner_id) >= self._max_jobs_in_flight:
            raise TooMany(
                f"You already have {self._max_jobs_in_flight} files being "
                "processed; wait for some to finish."
            )

        head = stream.read(SNIFF_BYTES)
        if not head:
            raise InvalidInput("The file is empty.", field="file")
        media_type = sniff_media_type(head)
        if media_type is None:
            raise UnsupportedMedia(
                "This file type is not supported: send PNG, JPEG, TIFF, BMP, "
                "WEBP, PDF or plain text."
            )

        key = f"{owner_id}/{attachment_id}"
        body = _LimitedReader(head, stream, self._max_upload_bytes)
        stored = self._files.save(key, body, str(media_type))

        job = Job(
            owner_id=owner_id,
            task_id=task.id,
            attachment_id=attachment_id,
            storage_key=key,
            media_type=str(media_type),
            language=language,
        )
        attachment = Attachment(
            id=attachment_id,
            owner_id=owner_id,
            task_id=task.id,
            project_id=task.project_id,
            filename=clean_filename(filename),
            media_type=str(media_type),
            size=stored.size,
            storage_key=key,
            language=language,
            job_id=job.id,
        )
        self._storage.jobs.add(job)
        self._storage.attachments.add(attachment)
        self._events.status(job)

        self._send(job.id)
        log.info(
            "Accepted %s upload %r (%d bytes) as job %r.",
            media_type,
            attachment_id,
            stored.size,
            job.id,
        )
        return Upload(attachment=attachment, job=job)

    def get(self, owner_id: str, attachment_id: str) -> Attachment:
        attachment = self._storage.attachments.get(owner_id, attachment_id)
        if attachment is None:
            raise NotFound("No such attachment.", attachment_id=attachment_id)
        return attachment

    def list_by_task(
        self, owner_id: str, task_id: str, page: PageRequest
    ) -> Page[Attachment]:
        if self._storage.tasks.get(owner_id, task_id) is None:
            raise NotFound("No such task.", task_id=task_id)
        return self._storage.attachments.list_by_task(owner_id, task_id, page)

    def download(self, owner_id: str, attachment_id: str) -> Download:
        """A signed URL to redirect to, or the bytes to stream."""
        attachment = self.get(owner_id, attachment_id)
        url = self._files.download_url(attachment.storage_key, attachment.filename)
        if url is not None:
            return Download(attachment, url=url, stream=None)
        return Download(
            attachment, url=None, stream=self._files.open(attachment.storage_key)
        )

    def delete(self, owner_id: str, attachment_id: str) -> None:
        """Delete the attachment and its file; its job is cancelled and removed."""
        attachment = self.get(owner_id, attachment_id)
        if not self._storage.attachments.delete(owner_id, attachment_id):
            raise NotFound("No such attachment.", attachment_id=attachment_id)

        job_ids = self._storage.jobs.delete_by_attachments([attachment_id])
        self._storage.job_events.delete_by_jobs(job_ids)
        self._files.delete(attachment.storage_key)

    def _send(self, job_id: str) -> None:
        """Hand the job to the queue; if that fails the sweep sends it later."""
        try:
            self._queue.enqueue(job_id)
        except Exception:
            log.warning(
                "Could not queue job %r now; the stalled-job sweep will send it.",
                job_id,
                exc_info=True,
            )

    def _replay(self, owner_id: str, attachment_id: str) -> Upload:
        attachment = self._storage.attachments.get(owner_id, attachment_id)
        if attachment is None or attachment.job_id is None:
            raise Conflict(
                "An upload with this Idempotency-Key is still in progress or "
                "did not complete; retry with a new key.",
            )
        job = self._storage.jobs.get_for_owner(owner_id, attachment.job_id)
        if job is None:
            raise Conflict("The upload for this Idempotency-Key was deleted.")
        return Upload(attachment=attachment, job=job, replayed=True)

    def _check_language(self, language: str) -> None:
        if not _LANGUAGE.match(language):
            raise InvalidInput(
                "Give OCR languages as Tesseract codes, such as eng or eng+deu.",
                field="language",
            )
        missing = set(language.split("+")) - self._languages()
        if missing:
            raise InvalidInput(
                f"No OCR data installed for: {', '.join(sorted(missing))}.",
                field="language",
            )


def _size(limit: int) -> str:
    """A byte count as people read it: 25 MB, 512 KB, 900 bytes."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if limit >= scale:
            return f"{limit / scale:.3g} {unit}"
    return f"{limit} bytes"


def clean_filename(filename: str) -> str:
    """The client's file name as harmless metadata: no path, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        char
        for char in unicodedata.normalize("NFC", name)
        if unicodedata.category(char)[0] != "C"
    )
    return name.strip()[:MAX_FILENAME_LENGTH] or "upload"


class _LimitedReader(io.RawIOBase):
    """The sniffed head followed by the rest of the stream, up to a size limit.

    Raises ``TooLarge`` as soon as the limit is crossed, so an oversized
    upload is never read or stored past it.
    """

    def __init__(self, head: bytes, rest: BinaryIO, limit: int) -> None:
        self._head = head
        self._rest = rest
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            chunk, self._head = self._head[: len(buffer)], self._head[len(buffer) :]
        else:
            chunk = self._rest.read(len(buffer))
        self._read += len(chunk)
        if self._read > self._limit:
            raise TooLarge(
                f"Files may be at most {_size(self._limit)}.", limit_bytes=self._limit
            )

        buffer[: len(chunk)] = chunk
        return len(chunk)
