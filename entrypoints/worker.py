"""Worker processes: Dramatiq on Redis, running the document pipeline.

    tasks-api worker --processes 1 --threads 2
    dramatiq tasks_api.entrypoints.worker:worker_main -p 1 -t 2 -Q jobs

A worker takes job ids from the ``jobs`` queue and reports everything back
through the API's internal routes (``HttpJobGateway``): it needs
REDIS_HOST, WORKER_SECRET and API_URL, and no database or LLM key.

How many per machine: the OCR reader already spreads one document's pages
over every core, one Tesseract process per core, so one worker process
keeps a machine's CPUs busy. Two threads in it let a second job download
its file or wait on the summarizer while the first one holds the cores;
more threads only queue jobs inside the machine that another machine
could have taken. More processes add memory, not speed, unless the reader
is limited to fewer cores than the machine has. Scale out with machines.

Each process holds as many messages as it has threads (Dramatiq's
default is twice that), so a long OCR job never keeps a second job
waiting behind it while other machines are idle.
"""

from __future__ import annotations

import logging
import os
import sys

import dramatiq
import dramatiq.cli
import dramatiq.worker
from dependency_injector import providers

from tasks_api.adapters.queue.dramatiq import QUEUE_NAME, build_broker, set_job_handler
from tasks_api.entrypoints.bootstrap import build_container
from tasks_api.entrypoints.logs import configure_logging
from tasks_api.entrypoints.settings import Settings, SettingsError, load_settings
from tasks_api.ports.ocr import TextReader
from tasks_api.usecases.pipeline import DocumentPipeline

log = logging.getLogger(__name__)

WORKER_ENTRY = "tasks_api.entrypoints.worker:worker_main"

# The settings ``run_worker`` was given, inherited by the worker processes
# it forks; a process started any other way reads the environment.
_settings: Settings | None = None


def build_pipeline(
    settings: Settings, reader: TextReader | None = None
) -> DocumentPipeline:
    """The pipeline a worker runs: OCR here, everything else via the API."""
    if not settings.worker_secret:
        raise SettingsError("WORKER_SECRET: required to run a worker.")

    services = build_container(settings)
    if reader is not None:
        services.text_reader.override(providers.Object(reader))
    return services.worker_pipeline()


def worker_main() -> None:
    """Set up one worker process: logging, the broker, the job handler.

    Dramatiq's CLI calls this in each process it starts (the
    ``module:callable`` form of its broker argument) and then takes the
    broker from ``dramatiq.get_broker()``, hence ``set_broker`` here.
    """
    settings = _settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.redis_host:
        raise SettingsError("REDIS_HOST: required to run a worker.")

    broker = build_broker(settings.redis_host, settings.redis_port)
    dramatiq.set_broker(broker)
    set_job_handler(build_pipeline(settings).run)
    log.info(
        "Worker process %d ready: jobs from Redis %s:%d, reports to %s.",
        os.getpid(),
        settings.redis_host,
        settings.redis_port,
        settings.worker_api_url,
    )


def run_worker(settings: Settings, processes: int, threads: int) -> int:
    """Run Dramatiq's worker processes until a signal stops them.

    Returns the exit status. Call it from the main thread: Dramatiq installs
    signal handlers (SIGTERM and SIGINT stop gracefully, SIGHUP restarts).
    """
    global _settings
    if not settings.redis_host or not settings.worker_secret:
        print(
            "tasks-api: a worker needs REDIS_HOST and WORKER_SECRET "
            "(and API_URL unless the API is on this machine).",
            file=sys.stderr,
        )
        return 2

    configure_logging(settings.log_level, settings.log_format)
    _settings = settings
    _prefetch_one_job_per_thread(threads)
    args = dramatiq.cli.make_argument_parser().parse_args(
        [
            WORKER_ENTRY,
            "--processes",
            str(processes),
            "--threads",
            str(threads),
            "--queues",
            QUEUE_NAME,
            "--skip-logging",
            "--path",  # nothing: keep the working directory off sys.path
        ]
    )
    log.info(
        "Starting %d worker process(es) with %d thread(s) each, reporting to %s.",
        processes,
        threads,
        settings.worker_api_url,
    )
    return int(dramatiq.cli.main(args) or 0)


def _prefetch_one_job_per_thread(threads: int) -> None:
    """Have each process reserve only as many messages as it has threads.

    Dramatiq reads ``dramatiq_queue_prefetch`` when ``dramatiq.worker`` is
    imported, which has happened by now: the module value is set for the
    processes forked from here, the variable for any started afresh.
    """
    os.environ["dramatiq_queue_prefetch"] = str(threads)  # noqa: SIM112 - its name
    dramatiq.worker.QUEUE_PREFETCH = threads
