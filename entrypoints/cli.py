"""The ``tasks-api`` command: serve the API, run migrations, run a worker."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from collections.abc import Sequence

from tasks_api.entrypoints.client import EXIT_CODES_HELP, add_client_commands
from tasks_api.entrypoints.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    if not getattr(args, "needs_settings", True):
        # Client commands talk to a server; they read no server settings.
        return args.run(None, args)

    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"tasks-api: invalid setting: {error}", file=sys.stderr)
        return 2
    return args.run(settings, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tasks-api",
        description="Projects and tasks whose attachments are read by OCR "
        "and summarized. Settings come from the environment and .env.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser(
        "serve",
        help="run the HTTP API under gunicorn with gevent",
        description="Run the HTTP API under gunicorn with gevent workers. "
        "Listens on PORT (default 4000). In embedded mode (no MONGO_URL) "
        "pending migrations are applied first.",
    )
    serve.add_argument(
        "--host",
        default="0.0.0.0",  # noqa: S104 - a server listens on every interface
        help="address to bind (default 0.0.0.0)",
    )
    serve.add_argument("--port", type=int, help="port to bind (default: PORT or 4000)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser(
        "migrate",
        help="apply pending storage migrations",
        description="Apply the numbered migrations in alembic-free-migrations/ "
        "that the configured store (SQLite or MongoDB) has not recorded yet.",
    )
    migrate.set_defaults(run=_migrate)

    worker = commands.add_parser(
        "worker",
        help="run Dramatiq workers that process uploaded files",
        description="Run Dramatiq worker processes on Redis (REDIS_HOST, "
        "REDIS_PORT). Workers read files with Tesseract and report to the API "
        "at API_URL over its internal routes with WORKER_SECRET; they need no "
        "database settings. OCR pages already run in parallel across cores, "
        "so one process with two threads per machine is a good start.",
    )
    worker.add_argument(
        "--processes", type=int, default=1, help="worker processes (default 1)"
    )
    worker.add_argument(
        "--threads", type=int, default=2, help="threads per process (default 2)"
    )
    worker.set_defaults(run=_worker)

    add_client_commands(commands)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from tasks_api.entrypoints.server import serve

    if shutil.which(settings.tesseract_cmd) is None:
        print(
            f"tasks-api: invalid setting: TESSERACT_CMD: {settings.tesseract_cmd!r} "
            "was not found; install tesseract-ocr or point TESSERACT_CMD at it.",
            file=sys.stderr,
        )
        return 2
    return serve(settings, host=args.host, port=args.port or settings.port)


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from tasks_api.entrypoints.worker import run_worker

    return run_worker(settings, processes=args.processes, threads=args.threads)


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from tasks_api.entrypoints.bootstrap import build_container
    from tasks_api.entrypoints.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    services = build_container(settings)
    applied = services.storage().migrate()
    if applied:
        print("applied: " + ", ".join(applied))
    else:
        print("nothing to apply")
    return 0


if __name__ == "__main__":
    sys.exit(main())
