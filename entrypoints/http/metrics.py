"""Prometheus metrics of one API process, at ``GET /metrics``.

The app's own metrics live in a registry of its own, so tests can build
many apps: request latency by route, open streams, and two gauges read
when Prometheus scrapes, jobs by status (from storage) and the queue's
depth. The answer also carries prometheus_client's default registry,
which is process-wide: the process and Python collectors, and what the
adapters count in this process (OCR seconds per page when jobs run here,
LLM calls and tokens wherever summaries are made).

Jobs by status and the queue's depth are the same figures whichever API
process answers, so aggregate them with ``max``, not ``sum``; latency and
open streams are per process. Under several gunicorn workers each process
answers for itself: scrape them one by one or run one worker per
container, as Prometheus prefers. A worker process (``tasks-api worker``)
serves its own metrics through Dramatiq's middleware (see ``worker.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from tasks_api.adapters.concurrency import gevent_is_active, thread_lock
from tasks_api.domain.jobs import JobStatus
from tasks_api.entrypoints.http.common import CONTAINER_KEY

log = logging.getLogger(__name__)

REGISTRY_KEY = "tasks_api.metrics"

blp = Blueprint("metrics", __name__)


def _values_with_real_locks() -> None:
    """Have prometheus_client guard each value with a real lock under gevent.

    prometheus_client takes ``threading.Lock`` when it is imported, which
    in a gevent worker is gevent's lock. The OCR reader and the job
    threads observe their metrics from real threads while the scrape runs
    in a greenlet, and a gevent lock shared that way can leave a waiter
    asleep for good (see ``adapters/concurrency.py``). The value class is
    the library's own seam for this (``values.ValueClass``), read each
    time a metric or a labelled child is made; so this runs when this
    module is imported, before any adapter defines a metric.
    """
    if not gevent_is_active() or values.ValueClass is not values.MutexValue:
        return

    class RealLockValue(values.MutexValue):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._lock = thread_lock()

    values.ValueClass = RealLockValue


_values_with_real_locks()


class BacklogCollector:
    """Jobs by status and the queue's depth, read at each scrape.

    A figure whose source fails is left out of that scrape with a warning,
    so ``/metrics`` keeps answering while storage or Redis is down; the
    gap shows in Prometheus, and ``/readyz`` says which one is down.
    """

    def __init__(
        self,
        count_jobs: Callable[[], Mapping[JobStatus, int]],
        queue_depth: Callable[[], int],
    ) -> None:
        self._count_jobs = count_jobs
        self._queue_depth = queue_depth

    def describe(self) -> Iterable[Metric]:
        """The metric names, without reading anything: used at registration."""
        return [self._jobs_family(), self._depth_family()]

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self._count_jobs()
        except Exception as error:
            log.warning("Jobs by status are left out of this scrape: %s", error)
        else:
            jobs = self._jobs_family()
            for status, count in sorted(counts.items()):
                jobs.add_metric([status.value], count)
            yield jobs

        try:
            depth = self._queue_depth()
        except NotImplementedError:
            return
        except Exception as error:
            log.warning("Queue depth is left out of this scrape: %s", error)
        else:
            depth_family = self._depth_family()
            depth_family.add_metric([], depth)
            yield depth_family

    @staticmethod
    def _jobs_family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "tasks_api_jobs",
            "Jobs in storage by status, of every user, counted when scraped.",
            labels=["status"],
        )

    @staticmethod
    def _depth_family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "tasks_api_queue_depth",
            "Jobs waiting in the queue to be started, delayed ones included.",
        )


class ApiMetrics:
    """The metrics one app keeps in its own registry."""

    def __init__(
        self,
        open_streams: Callable[[], float],
        count_jobs: Callable[[], Mapping[JobStatus, int]],
        queue_depth: Callable[[], int],
    ) -> None:
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
        self.registry.register(BacklogCollector(count_jobs, queue_depth))
        self._latency_by_labels: dict[tuple[str, str, int], Any] = {}

    def latency(self, method: str, route: str, status: int) -> Any:
        """The latency histogram of one method, route pattern and status.

        Kept in a dict of our own: ``labels()`` takes a lock and turns every
        value into a string on each call, half the cost of timing a request.
        Routes are patterns and statuses few, so the dict stays small.
        """
        key = (method, route, status)
        histogram = self._latency_by_labels.get(key)
        if histogram is None:
            histogram = self.request_seconds.labels(method, route, str(status))
            self._latency_by_labels[key] = histogram
        return histogram

    def collect(self) -> Iterator[Metric]:
        """This app's metrics, then the process-wide default registry's."""
        yield from self.registry.collect()
        yield from REGISTRY.collect()


def install_metrics(app: Flask) -> None:
    """Time every request by its route pattern, never its raw path."""
    services = app.extensions[CONTAINER_KEY]
    metrics = ApiMetrics(
        open_streams=lambda: services.stream_limits().total(),
        count_jobs=lambda: services.storage().jobs.count_by_status(),
        queue_depth=lambda: services.queue().depth(),
    )
    app.extensions[REGISTRY_KEY] = metrics

    @app.before_request
    def _start_timer() -> None:
        g._get_current_object().metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        # g and request resolved once each: see the note above container()
        # in common.py.
        started = getattr(g._get_current_object(), "metrics_started", None)
        served = request._get_current_object()
        rule = served.url_rule
        if started is not None and rule is not None:
            metrics.latency(served.method, rule.rule, response.status_code).observe(
                time.perf_counter() - started
            )
        return response


@blp.get("/metrics")
def metrics() -> Response:
    exposition = generate_latest(current_app.extensions[REGISTRY_KEY])
    return Response(exposition, mimetype=CONTENT_TYPE_LATEST)
