"""Running the API under gunicorn with gevent workers.

gevent lets one process hold thousands of open event streams. The gevent
worker patches the standard library when it starts, before the app is
loaded, so the app is built inside each worker and never preloaded.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import gevent
from gevent import monkey
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker

from tasks_api.entrypoints.logs import configure_logging
from tasks_api.entrypoints.settings import Settings

log = logging.getLogger(__name__)


class FairGeventWorker(GeventWorker):
    """gunicorn's gevent worker, taking turns between connections.

    gevent switches only when a greenlet waits, and a keep-alive client
    whose next request is already buffered never makes its greenlet wait:
    it would be served again and again while other connections queue. So
    each request first lets every other ready greenlet run. Measured with
    wrk (bench/api), p99 fell from seconds to tens of milliseconds, for
    about a tenth of the throughput.

    The worker also leaves ``subprocess``, ``os`` and ``signal`` unpatched.
    The embedded worker runs Tesseract from real threads, and gevent's
    patched subprocess can only wait for children on the main thread's
    loop ("child watchers are only available on the default loop"). No
    request handler starts a process, so nothing needs them patched.
    """

    def patch(self) -> None:
        monkey.patch_all(subprocess=False, os=False, signal=False)
        self.sockets = [
            socket.socket(s.FAMILY, socket.SOCK_STREAM, fileno=s.sock.detach())
            for s in self.sockets
        ]

    def handle_request(self, listener_name: str, req: Any, sock: Any, addr: Any) -> Any:
        gevent.sleep(0)
        return super().handle_request(listener_name, req, sock, addr)


class GunicornServer(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from tasks_api.entrypoints.bootstrap import build_app

        configure_logging(self._settings.log_level, self._settings.log_format)
        return build_app(self._settings)


def gunicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": settings.web_concurrency,
        "worker_class": f"{__name__}.FairGeventWorker",
        "worker_connections": 20_000,
        # Event streams stay open; gevent workers heartbeat on their own,
        # so this only bounds how long a stuck worker lives.
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        # gunicorn's most: a full page cursor, percent-encoded, fits.
        "limit_request_line": 8190,
        # The app logs one line per request itself, with the request id.
        "accesslog": None,
        # gunicorn's control socket lives at one path per user, which two
        # servers on one machine would fight over; nothing here uses it.
        "control_socket_disable": True,
        "loglevel": settings.log_level.lower(),
    }


def serve(settings: Settings, host: str, port: int) -> int:
    configure_logging(settings.log_level, settings.log_format)
    log.info(
        "Serving on http://%s:%d with %d worker(s).",
        host,
        port,
        settings.web_concurrency,
    )
    GunicornServer(settings, gunicorn_options(settings, host, port)).run()
    return 0
