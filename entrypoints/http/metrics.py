"""Prometheus metrics of one API process, at ``GET /metrics``.

Each app gets its own registry, so tests can build many apps. Under several
gunicorn workers each process answers for itself; scrape them one by one
or run one worker per container, as Prometheus prefers.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)

from tasks_api.entrypoints.http.common import container

REGISTRY_KEY = "tasks_api.metrics"

blp = Blueprint("metrics", __name__)


class ApiMetrics:
    def __init__(self, open_streams: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "tasks_api_request_seconds",
            "Time to answer a request, by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        streams = Gauge(
            "tasks_api_open_streams",
            "Live event streams open on this process.",
            registry=self.registry,
        )
        streams.set_function(open_streams)


def install_metrics(app: Flask) -> None:
    """Time every request by its route pattern, never its raw path."""
    metrics = ApiMetrics(lambda: container().stream_limits().total())
    app.extensions[REGISTRY_KEY] = metrics

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None and request.url_rule is not None:
            metrics.request_seconds.labels(
                request.method, request.url_rule.rule, str(response.status_code)
            ).observe(time.perf_counter() - started)
        return response


@blp.get("/metrics")
def metrics() -> Response:
    registry = current_app.extensions[REGISTRY_KEY].registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
