"""Throttling of login attempts, and the client address behind a proxy.

Only failed logins count: a user who types the right password is never
slowed down by their own success. Failures are counted per account and
per client address, in memory in embedded mode and in Redis when
REDIS_HOST is set, so every API process shares one count.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from tasks_api.entrypoints.settings import Settings
from tasks_api.usecases.auth import normalize_email

limiter = Limiter(
    key_func=get_remote_address, headers_enabled=True, strategy="fixed-window"
)


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "account:" + (normalize_email(email) if isinstance(email, str) else "-")


login_failures_per_address = limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"],
    key_func=lambda: "address:" + get_remote_address(),
    deduct_when=_failed,
    error_message="Too many failed logins from this address; wait and try again.",
)
login_failures_per_account = limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    key_func=_account_key,
    deduct_when=_failed,
    error_message="Too many failed logins for this account; wait and try again.",
)


@limiter.request_filter
def _not_a_login() -> bool:
    """Only logins are limited: every other request skips the limiter's work.

    Its check otherwise costs about 100 microseconds on every request.
    """
    return request.endpoint != "auth.Login"


def install_limits(app: Flask, settings: Settings) -> None:
    app.config.update(
        RATELIMIT_STORAGE_URI=(
            f"redis://{settings.redis_host}:{settings.redis_port}/0"
            if settings.redis_host
            else "memory://"
        ),
        RATELIMIT_KEY_PREFIX="tasks-api",
        LOGIN_FAILURES_PER_ADDRESS=settings.login_failures_per_address,
        LOGIN_FAILURES_PER_ACCOUNT=settings.login_failures_per_account,
    )
    if settings.trusted_proxies:
        # Each trusted proxy appends the address it saw; take the one the
        # outermost trusted proxy was given, never what a client claims.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
        )
    limiter.init_app(app)
