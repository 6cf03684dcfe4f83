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

Metrics: with ``dramatiq_prom_port`` set in the environment, the worker
adds Dramatiq's Prometheus middleware, and one more process serves
``GET /metrics`` (any path answers) on that port, at
``dramatiq_prom_host`` (Dramatiq's default ``0.0.0.0``; set
``127.0.0.1`` unless Prometheus scrapes from another machine). It shows
Dramatiq's message counts and durations for the ``jobs`` queue and what
the adapters count here (``tasks_api_ocr_page_seconds``), summed over
the worker processes: every process writes its metrics into files under
``dramatiq_prom_db``, which ``tasks-api worker`` makes afresh for each
run and removes at the end. Unset, no metrics are served. These are
Dramatiq's own variables, read by Dramatiq itself; the port serves
without authentication, so keep it on a private network.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile

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

# Dramatiq's own variables for its Prometheus middleware.
METRICS_PORT_VARIABLE = "dramatiq_prom_port"
METRICS_HOST_VARIABLE = "dramatiq_prom_host"
METRICS_DIR_VARIABLE = "dramatiq_prom_db"

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
    if metrics_wanted():
        broker.add_middleware(_prometheus_middleware())
    dramatiq.set_broker(broker)
    set_job_handler(build_pipeline(settings).run)
    log.info(
        "Worker process %d ready: jobs from Redis %s:%d, reports to %s.",
        os.getpid(),
        settings.redis_host,
        settings.redis_port,
        settings.worker_api_url,
    )


def metrics_wanted() -> bool:
    """Whether ``dramatiq_prom_port`` asks for the metrics server."""
    return bool(os.environ.get(METRICS_PORT_VARIABLE))


def _prometheus_middleware() -> dramatiq.Middleware:
    """Dramatiq's Prometheus middleware, with this process's metrics shared.

    The middleware's server runs in a process of its own and reads the
    metric files every worker process writes. prometheus_client picks
    between keeping values in memory and writing them to files when it
    is imported, which ``tasks_api`` has done by now; so the choice is
    made again here, before the middleware or the OCR reader define
    their metrics, or they would stay in memory where nothing serves them.
    """
    from dramatiq.middleware.prometheus import DB_PATH, Prometheus
    from prometheus_client import values

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = DB_PATH
    values.ValueClass = values.get_value_class()
    return Prometheus()


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
    metrics_dir = None
    if metrics_wanted():
        metrics_dir = _fresh_metrics_dir()
        log.info(
            "Serving worker metrics on %s:%s.",
            os.environ.get(METRICS_HOST_VARIABLE, "0.0.0.0"),  # noqa: S104 - its default
            os.environ[METRICS_PORT_VARIABLE],
        )
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
    try:
        return int(dramatiq.cli.main(args) or 0)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _fresh_metrics_dir() -> str | None:
    """An empty directory for this run's metric files, unless one is set.

    Files left by an earlier run would add its counts to this one's, and
    the in-progress gauge of a killed process would never go down.
    Returns the directory made here, to remove at the end.
    """
    if os.environ.get(METRICS_DIR_VARIABLE):
        return None
    made = tempfile.mkdtemp(prefix="tasks-api-worker-metrics-")
    os.environ[METRICS_DIR_VARIABLE] = made
    return made


def _prefetch_one_job_per_thread(threads: int) -> None:
    """Have each process reserve only as many messages as it has threads.

    Dramatiq reads ``dramatiq_queue_prefetch`` when ``dramatiq.worker`` is
    imported, which has happened by now: the module value is set for the
    processes forked from here, the variable for any started afresh.
    """
    os.environ["dramatiq_queue_prefetch"] = str(threads)  # noqa: SIM112 - its name
    dramatiq.worker.QUEUE_PREFETCH = threads
