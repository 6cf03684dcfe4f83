"""The one dependency container: which adapter serves each port.

Every adapter is chosen from ``Settings`` here and nowhere else, each by
its own setting (see ``settings.py``). Tests build the container from
their own settings, or override a provider and undo it:

    services = build_container(settings)
    services.summarizer.override(providers.Object(FakeSummarizer()))

Adapters that pull in a heavy or optional driver are imported inside the
function that opens them, so an embedded run never imports pymongo's
server code paths, the Cloudinary SDK or Dramatiq.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dependency_injector import containers, providers

from tasks_api.adapters.events.inprocess import InProcessEventBus
from tasks_api.adapters.files.local import LocalFileStore
from tasks_api.adapters.gateway.direct import DirectJobGateway
from tasks_api.adapters.gateway.http import HttpJobGateway
from tasks_api.adapters.gateway.signing import (
    MemoryReplayGuard,
    RedisReplayGuard,
    ReplayGuard,
)
from tasks_api.adapters.llm.extractive import ExtractiveSummarizer
from tasks_api.adapters.queue.inprocess import InProcessJobQueue
from tasks_api.adapters.security.passwords import Argon2PasswordHasher
from tasks_api.adapters.security.tokens import JwtTokenIssuer
from tasks_api.entrypoints.settings import Settings
from tasks_api.ports.events import EventBus
from tasks_api.ports.files import FileStore
from tasks_api.ports.llm import Summarizer
from tasks_api.ports.ocr import TextReader
from tasks_api.ports.queue import JobQueue
from tasks_api.ports.storage import Storage
from tasks_api.usecases.attachments import AttachmentCleanup, AttachmentService
from tasks_api.usecases.auth import AuthService
from tasks_api.usecases.jobs import JobEvents, JobLifecycle, JobService
from tasks_api.usecases.live import JobFollower, StreamLimits
from tasks_api.usecases.pipeline import DocumentPipeline
from tasks_api.usecases.projects import ProjectService
from tasks_api.usecases.tasks import TaskService


def open_storage(settings: Settings) -> Storage:
    """MongoDB when MONGO_URL is set, else the SQLite file under DATA_DIR."""
    if settings.mongo_url:
        from tasks_api.adapters.storage.mongo import MongoStorage

        return MongoStorage.from_url(settings.mongo_url)

    from tasks_api.adapters.storage.sqlite import SqliteStorage

    return SqliteStorage(settings.sqlite_path)


def open_file_store(settings: Settings) -> FileStore:
    """Cloudinary when the CLOUDINARY_* settings are given, else DATA_DIR/files."""
    if settings.uses_cloudinary:
        from tasks_api.adapters.files.cloudinary import CloudinaryFileStore

        return CloudinaryFileStore(
            cloud_name=settings.cloudinary_cloud_name,
            api_key=settings.cloudinary_api_key,
            api_secret=settings.cloudinary_api_secret,
            api_url=settings.cloudinary_api_url,
        )
    return LocalFileStore(settings.files_dir)


def open_summarizer(settings: Settings) -> Summarizer:
    """An OpenAI-compatible server when configured, else the local summarizer."""
    if settings.uses_openai:
        from tasks_api.adapters.llm.openai import OpenAISummarizer

        return OpenAISummarizer(
            api_key=settings.openai_api_key or "not-needed",
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            timeout=settings.openai_timeout_seconds,
        )
    return ExtractiveSummarizer()


def open_reader(settings: Settings) -> TextReader:
    from tasks_api.adapters.ocr.tesseract import TesseractReader

    return TesseractReader(
        max_pages=settings.ocr_max_pages,
        max_pixels=settings.ocr_max_pixels,
        page_timeout_seconds=settings.ocr_page_timeout_seconds,
        tesseract_cmd=settings.tesseract_cmd,
    )


def open_event_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when REDIS_HOST is set, else in-process fan-out."""
    if settings.redis_host:
        from tasks_api.adapters.events.redis import RedisEventBus, redis_client

        return RedisEventBus(redis_client(settings.redis_host, settings.redis_port))
    return InProcessEventBus()


def open_queue(
    settings: Settings, pipeline: Callable[[], DocumentPipeline]
) -> JobQueue:
    """Dramatiq on Redis when REDIS_HOST is set, else worker threads here."""
    if settings.redis_host:
        from tasks_api.adapters.queue.dramatiq import DramatiqJobQueue, build_broker

        return DramatiqJobQueue(build_broker(settings.redis_host, settings.redis_port))
    # One job per core: a one-page document keeps only one Tesseract busy,
    # so single pages need several jobs at once to use the machine.
    return InProcessJobQueue(
        lambda job_id: pipeline().run(job_id), workers=os.cpu_count() or 1
    )


def open_replay_guard(settings: Settings) -> ReplayGuard:
    """Where seen worker signatures are remembered: Redis, or this process."""
    if settings.redis_host:
        from tasks_api.adapters.events.redis import redis_client

        return RedisReplayGuard(redis_client(settings.redis_host, settings.redis_port))
    return MemoryReplayGuard()


def open_redis_probe(settings: Settings) -> Callable[[], Any] | None:
    """A ping of Redis with short timeouts, when REDIS_HOST is set.

    Redis carries the job queue, live events, login throttling and the
    worker replay guard. The probe has a client of its own so a stalled
    Redis fails readiness within about two seconds, where the broker's
    client would wait out its 30 s read timeout; its one retry, at once,
    replaces a connection that Redis dropped on a restart.
    """
    if not settings.redis_host:
        return None
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        socket_connect_timeout=1,
        socket_timeout=1,
        retry=Retry(NoBackoff(), retries=1),
    )
    return client.ping


def readiness_checks(
    storage: Storage, queue: JobQueue, redis_probe: Callable[[], Any] | None
) -> dict[str, Callable[[], Any]]:
    """Each backing service by name, with a call that raises if it is down."""
    checks = {"storage": storage.ping, "queue": queue.ping}
    if redis_probe is not None:
        checks["redis"] = redis_probe
    return checks


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    storage = providers.Singleton(open_storage, settings)
    file_store = providers.Singleton(open_file_store, settings)
    summarizer = providers.Singleton(open_summarizer, settings)
    text_reader = providers.Singleton(open_reader, settings)
    event_bus = providers.Singleton(open_event_bus, settings)
    password_hasher = providers.Singleton(Argon2PasswordHasher)
    token_issuer = providers.Singleton(
        JwtTokenIssuer,
        secret=settings.provided.jwt_secret,
        lifetime_seconds=settings.provided.jwt_ttl_seconds,
    )

    job_events = providers.Singleton(JobEvents, storage, event_bus)
    # Given its `queue` below the class: queue -> pipeline -> gateway ->
    # lifecycle -> queue is a cycle in embedded mode, broken by the queue
    # resolving the pipeline only when it runs a job.
    job_lifecycle = providers.Singleton(
        JobLifecycle,
        storage,
        job_events,
        summarizer,
        max_attempts=settings.provided.job_max_attempts,
        stale_after=providers.Callable(
            lambda seconds: timedelta(seconds=seconds),
            settings.provided.job_stale_seconds,
        ),
    )
    pipeline = providers.Singleton(
        DocumentPipeline,
        gateway=providers.Singleton(DirectJobGateway, job_lifecycle, file_store),
        reader=text_reader,
        max_attempts=settings.provided.job_max_attempts,
        heartbeat_seconds=settings.provided.heartbeat_seconds,
    )
    queue = providers.Singleton(open_queue, settings, pipeline.provider)

    # A worker process of its own (`tasks-api worker`) reports over HTTP and
    # opens neither storage nor the summarizer.
    worker_pipeline = providers.Singleton(
        DocumentPipeline,
        gateway=providers.Singleton(
            HttpJobGateway,
            settings.provided.worker_api_url,
            settings.provided.worker_secret,
        ),
        reader=text_reader,
        max_attempts=settings.provided.job_max_attempts,
        heartbeat_seconds=settings.provided.heartbeat_seconds,
    )

    cleanup = providers.Factory(AttachmentCleanup, storage, file_store)
    auth = providers.Factory(AuthService, storage, password_hasher, token_issuer)
    projects = providers.Factory(ProjectService, storage, cleanup)
    tasks = providers.Factory(TaskService, storage, cleanup)
    jobs = providers.Factory(JobService, storage, job_events)
    attachments = providers.Factory(
        AttachmentService,
        storage,
        file_store,
        queue,
        job_events,
        languages=text_reader.provided.languages,
        max_upload_bytes=settings.provided.max_upload_bytes,
        max_jobs_in_flight=settings.provided.max_jobs_in_flight,
    )

    stream_limits = providers.Singleton(
        StreamLimits, per_user=settings.provided.max_streams_per_user
    )
    follower = providers.Factory(
        JobFollower,
        storage,
        event_bus,
        jobs,
        stream_limits,
        heartbeat_seconds=settings.provided.sse_heartbeat_seconds,
    )

    replay_guard = providers.Singleton(open_replay_guard, settings)

    redis_probe = providers.Singleton(open_redis_probe, settings)
    readiness_checks = providers.Callable(readiness_checks, storage, queue, redis_probe)


Container.job_lifecycle.add_kwargs(queue=Container.queue)
