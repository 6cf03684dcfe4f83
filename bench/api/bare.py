"""A bare Flask JSON endpoint under the service's own gunicorn options.

The yardstick for ``python -m bench.api``: the same worker class, worker
count, connections and timeouts as ``tasks-api serve`` (both take them
from ``gunicorn_options``), and nothing else, so the gap between the two
is what the service itself costs.

    python -m bench.api.bare --port 4901
"""

from __future__ import annotations

import argparse
from typing import Any

from flask import Flask, Response, jsonify
from gunicorn.app.base import BaseApplication

from tasks_api.entrypoints.server import gunicorn_options
from tasks_api.entrypoints.settings import load_settings

PATH = "/bare"


def create_bare_app() -> Flask:
    app = Flask("bare")

    @app.get(PATH)
    def bare() -> Response:
        return jsonify(status="ok", items=[])

    return app


class BareServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_bare_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    options = gunicorn_options(load_settings(), "127.0.0.1", args.port)
    BareServer(options).run()


if __name__ == "__main__":
    main()
