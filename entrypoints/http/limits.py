"""Throttling of login attempts, and the client address behind a proxy.

Only failed logins count: a user who types the right password is never
slowed down by their own success. Failures are counted per account and
per client address, in memory in embedded mode and in Redis when
REDIS_HOST is set, so every API process shares one count.

The counting is the ``limits`` library's, called from the login view
alone. Flask-Limiter, which wraps the same library, hooks every request
of the app even when one route is limited; those hooks cost about 15
microseconds on each request to a route that never logs anyone in.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from tasks_api.entrypoints.settings import Settings
from tasks_api.usecases.auth import normalize_email

log = logging.getLogger(__name__)

THROTTLE_KEY = "tasks_api.login_throttle"
NAMESPACE = "tasks-api-login"
# A login waits at most this long on an unreachable Redis before the
# throttle gives up and lets it through.
REDIS_TIMEOUT_SECONDS = 1.0


class LoginThrottled(TooManyRequests):
    """429 with the seconds until the client may try again."""


class LoginThrottle:
    """Counts failed logins by client address and by account."""

    def __init__(self, storage_uri: str, per_address: str, per_account: str) -> None:
        options = (
            {
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            }
            if storage_uri.startswith("redis://")
            else {}
        )
        self._limiter = FixedWindowRateLimiter(
            storage_from_string(storage_uri, **options)
        )
        self._per_address = parse(per_address)
        self._per_account = parse(per_account)

    def check(self, address: str, email: str) -> None:
        """Raise ``LoginThrottled`` if either count has reached its limit.

        A counter store that cannot be reached lets the login through and
        logs a warning: while Redis is down logins are not throttled, which
        is better than nobody being able to log in.
        """
        for limit, key, message in self._counters(address, email):
            try:
                if self._limiter.test(limit, NAMESPACE, key):
                    continue
                window = self._limiter.get_window_stats(limit, NAMESPACE, key)
            except Exception as error:
                log.warning("Login throttle unavailable, not enforced: %s", error)
                return
            retry_after = max(1, math.ceil(window.reset_time - time.time()))
            raise LoginThrottled(message, retry_after=retry_after)

    def record_failure(self, address: str, email: str) -> None:
        """Count one failed login against the address and the account."""
        for limit, key, _ in self._counters(address, email):
            try:
                self._limiter.hit(limit, NAMESPACE, key)
            except Exception as error:
                log.warning("Login throttle unavailable, not counted: %s", error)
                return

    def _counters(
        self, address: str, email: str
    ) -> list[tuple[RateLimitItem, str, str]]:
        return [
            (
                self._per_address,
                f"address:{address}",
                "Too many failed logins from this address; wait and try again.",
            ),
            (
                self._per_account,
                f"account:{normalize_email(email)}",
                "Too many failed logins for this account; wait and try again.",
            ),
        ]


def login_throttle() -> LoginThrottle:
    """The throttle of the running app."""
    return current_app.extensions[THROTTLE_KEY]


def install_limits(app: Flask, settings: Settings) -> None:
    storage_uri = (
        f"redis://{settings.redis_host}:{settings.redis_port}/0"
        if settings.redis_host
        else "memory://"
    )
    app.extensions[THROTTLE_KEY] = LoginThrottle(
        storage_uri,
        per_address=settings.login_failures_per_address,
        per_account=settings.login_failures_per_account,
    )
    if settings.trusted_proxies:
        # Each trusted proxy appends the address it saw; take the one the
        # outermost trusted proxy was given, never what a client claims.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
        )
