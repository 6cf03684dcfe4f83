"""The web console: one page and its scripts, served by the API itself.

    GET /                      the console page
    GET /console/<filename>    its script, style sheet and icons

The files live beside this module in ``console/`` and need no build
step, no CDN and no external font. Every answer carries a
Content-Security-Policy that allows scripts, styles and connections to
this origin only, and no inline script, so text that reaches the page
(a filename, a summary) cannot run as code even if it slipped past the
page's own escaping.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

ASSETS = Path(__file__).with_name("console")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

blp = Blueprint("console", __name__)


@blp.get("/")
def page() -> Response:
    """The console's single page."""
    return send_from_directory(ASSETS, "index.html", max_age=0)


@blp.get("/console/<path:filename>")
def asset(filename: str) -> Response:
    """A script, style sheet or icon of the console."""
    return send_from_directory(ASSETS, filename, max_age=0)


@blp.after_request
def _lock_down(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response
