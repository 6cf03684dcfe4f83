"""Logging set-up: readable lines by default, one JSON object a line on request.

A record made while a request is served carries that request's id, in
both formats, so an error line can be matched with its access line and
with the ``X-Request-ID`` the client saw.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from flask import g, has_request_context

from tasks_api.adapters.concurrency import thread_rlock

# Attributes every LogRecord has; anything else was passed in ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Stamp each record made during a request with the request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_request_context():
            record.request_id = g.get("request_id")
        return True


class TextFormatter(logging.Formatter):
    """One readable line, ending with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        # The second a line was last stamped with, and that second as text.
        self._last_second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The time as logging writes it by default, its date part made once a second.

        Formatting the date took a sixth of the instructions of an access
        line. The pair is replaced whole, so a job thread and a request
        greenlet stamping lines together each see a matching second and text.
        """
        if datefmt is not None:
            return super().formatTime(record, datefmt)

        second = int(record.created)
        last_second, text = self._last_second
        if second != last_second:
            text = time.strftime(self.default_time_format, self.converter(second))
            self._last_second = (second, text)
        return self.default_msec_format % (text, record.msecs)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())

    # Job threads and request greenlets log through the same handler.
    handler.lock = thread_rlock()
    # Neither format shows the caller's file and line or thread, so records
    # need not find them out: two of the logging HOWTO's "Optimization"
    # switches, worth a few microseconds on each request's access line. The
    # process id stays: gunicorn's own log lines print it.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
