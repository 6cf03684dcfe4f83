"""The console's files and headers, read without a browser."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from servers import RunningProcess

import tasks_api.entrypoints.http.console as console_module

ASSETS = Path(console_module.__file__).with_name("console")


def test_the_page_and_its_files_carry_a_strict_content_security_policy(
    server: RunningProcess,
) -> None:
    for path in ("/", "/console/app.js", "/console/app.css"):
        answer = requests.get(server.url + path, timeout=10)

        policy = answer.headers["Content-Security-Policy"]
        assert answer.status_code == 200, path
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_only_files_of_the_console_are_served(server: RunningProcess) -> None:
    for path in ("/console/../console.py", "/console/%2e%2e/console.py"):
        answer = requests.get(server.url + path, timeout=10)

        assert answer.status_code == 404, path


def test_the_page_has_no_inline_script_or_style_and_nothing_from_elsewhere() -> None:
    page = (ASSETS / "index.html").read_text()

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    elsewhere = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/")

    assert scripts
    assert all('src="/console/' in tag and not body for tag, body in scripts)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", page), "an inline handler"
    assert "<style" not in page and " style=" not in page
    for name in ("index.html", "app.js", "app.css"):
        assert not elsewhere.search((ASSETS / name).read_text()), name


def test_the_script_never_parses_text_as_html() -> None:
    script = (ASSETS / "app.js").read_text()

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in script, sink
    assert "eval(" not in script and "new Function" not in script
