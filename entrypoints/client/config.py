"""Where the server and the token come from.

``--url`` and ``--token`` first, else ``TASKS_API_URL`` and
``TASKS_API_TOKEN``, else the file ``login`` writes
(``$XDG_CONFIG_HOME/tasks-api/client.json``, mode 0600). A saved token is
only ever sent to the server it was issued by.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tasks_api.entrypoints.client.api import API_PATH
from tasks_api.entrypoints.client.errors import ClientError, UsageError

DEFAULT_URL = "http://127.0.0.1:4000"
URL_VARIABLE = "TASKS_API_URL"
TOKEN_VARIABLE = "TASKS_API_TOKEN"  # noqa: S105 - a variable name
CONFIG_FILE_HELP = "$XDG_CONFIG_HOME/tasks-api/client.json (~/.config by default)"


def config_path() -> Path:
    """``$XDG_CONFIG_HOME/tasks-api/client.json``, else under ``~/.config``."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else None
    return (root or Path.home() / ".config") / "tasks-api" / "client.json"


def load_config() -> dict[str, Any]:
    path = config_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ClientError(f"cannot read {path}: {error.strerror}") from None

    if path.stat().st_mode & 0o077:
        print(
            f"tasks-api: warning: {path} is readable by others; "
            f"run `chmod 600 {path}`.",
            file=sys.stderr,
        )
    try:
        saved = json.loads(text)
    except ValueError:
        raise ClientError(f"{path} is not valid JSON; delete it and log in.") from None
    return saved if isinstance(saved, dict) else {}


def save_config(saved: dict[str, Any]) -> Path:
    """Write the file only its owner can read, replacing it in one step."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(saved, file, indent=2)
        file.write("\n")
    os.chmod(partial, 0o600)
    os.replace(partial, path)
    return path


def server_url(args: argparse.Namespace, saved: dict[str, Any]) -> str:
    chosen = (
        getattr(args, "url", None)
        or os.environ.get(URL_VARIABLE)
        or saved.get("url")
        or DEFAULT_URL
    )
    return _normalized_url(chosen)


def access_token(args: argparse.Namespace, saved: dict[str, Any], url: str) -> str:
    token = getattr(args, "token", None) or os.environ.get(TOKEN_VARIABLE)
    if token:
        return token
    # A token saved for one server is never sent to another.
    if saved.get("token") and saved.get("url") == url:
        return str(saved["token"])
    raise ClientError(
        f"not logged in to {url}: run `tasks-api login` or set {TOKEN_VARIABLE}."
    )


def _normalized_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise UsageError(f"the server URL must start with http:// or https://: {url}")
    path = parts.path.rstrip("/").removesuffix(API_PATH)
    return f"{parts.scheme}://{parts.netloc}{path}"
