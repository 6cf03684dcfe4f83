"""Building the container and the app from settings, and the job sweeper."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from dependency_injector import providers
from flask import Flask

from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import create_app
from tasks_api.entrypoints.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)


def build_container(settings: Settings) -> Container:
    return Container(settings=providers.Object(settings))


def build_app(settings: Settings | None = None, sweep: bool = True) -> Flask:
    """The app for one server process.

    In embedded mode storage is migrated first, and every unfinished job is
    sent to the in-process worker at once: the process that held them is
    gone. With ``sweep``, a background thread re-sends stalled jobs.
    """
    settings = settings or load_settings()
    services = build_container(settings)

    if not settings.mongo_url:
        services.storage().migrate()
    # Asked once now, so that no upload waits on `tesseract --list-langs`.
    try:
        services.text_reader().languages()
    except OSError as error:
        raise SettingsError(
            f"TESSERACT_CMD: cannot run {settings.tesseract_cmd!r} ({error.strerror})."
        ) from error
    if not settings.redis_host:
        services.job_lifecycle().resend_stalled(
            older_than=timedelta(0), beat_older_than=timedelta(0)
        )
    if sweep:
        start_sweeper(services, settings)
    return create_app(services)


def start_sweeper(services: Container, settings: Settings) -> threading.Thread:
    """Re-send stalled jobs every SWEEP_SECONDS, for as long as the process lives.

    A queued job older than JOB_REQUEUE_SECONDS was probably lost by the
    queue, not just waiting. Every API process runs a sweep; two sweeps
    sending the same job is harmless.
    """
    every = settings.sweep_seconds
    queued_too_long = timedelta(seconds=settings.job_requeue_seconds)

    def sweep_forever() -> None:
        stop = threading.Event()
        while not stop.wait(every):
            try:
                services.job_lifecycle().resend_stalled(older_than=queued_too_long)
            except Exception:
                log.warning(
                    "The stalled-job sweep failed; trying again in %d s.",
                    every,
                    exc_info=True,
                )

    thread = threading.Thread(
        target=sweep_forever, name="tasks-api-sweeper", daemon=True
    )
    thread.start()
    return thread
