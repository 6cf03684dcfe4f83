"""The client commands of ``tasks-api``: the public API from a terminal.

    tasks-api login                      save a token for a server
    tasks-api projects list|create       your projects
    tasks-api tasks list|create          a project's tasks, filtered
    tasks-api upload FILE --task ID      attach a file, follow its job
    tasks-api follow JOB / job JOB       watch or read a job

The server and the token come from ``--url`` and ``--token``, else from
``TASKS_API_URL`` and ``TASKS_API_TOKEN``, else from the file ``login``
writes (``$XDG_CONFIG_HOME/tasks-api/client.json``, mode 0600). A saved
token is only ever sent to the server it was issued by. These commands
need none of the server's settings. They talk to the API over HTTP only,
as any other client would, and follow jobs over the same live stream.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import getpass
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, NoReturn
from urllib.parse import urlsplit

import requests

from tasks_api.domain.listing import TaskSort
from tasks_api.domain.model import Priority, TaskStatus

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_JOB_UNSUCCESSFUL = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0  success
  1  the job failed or was cancelled
  2  usage error (bad option, missing file)
  3  API, authentication or network error"""

DEFAULT_URL = "http://127.0.0.1:4000"
URL_VARIABLE = "TASKS_API_URL"
TOKEN_VARIABLE = "TASKS_API_TOKEN"  # noqa: S105 - a variable name
API_PATH = "/api/v1"
FINISHED = frozenset({"succeeded", "failed", "cancelled"})

# (connect, read) seconds. A live stream sends a heartbeat every 15 s by
# default, so a minute of silence means the connection is gone.
TIMEOUT = (10, 60)
UPLOAD_TIMEOUT = (10, 300)
STREAM_TIMEOUT = (10, 90)
MAX_STREAM_FAILURES = 5


# -- errors -----------------------------------------------------------------


class ClientError(Exception):
    """Raised when a command cannot go on; says what to tell the person."""

    exit_code = EXIT_API


class UsageError(ClientError):
    """Raised when the command line asks for something impossible."""

    exit_code = EXIT_USAGE


class ApiError(ClientError):
    """Raised when the API answers with an error."""

    def __init__(
        self, status: int, body: dict[str, Any] | None, reason: str, hint: str = ""
    ) -> None:
        self.status = status
        self.body = body or {}
        message = self.body.get("message") or f"the server answered {reason}"
        details = _field_errors(self.body.get("errors"))
        if details:
            message = f"{message} ({details})"
        super().__init__(f"{message} {hint}".strip())


def _field_errors(errors: object) -> str:
    if not isinstance(errors, dict):
        return ""
    said = []
    for fields in errors.values():
        if isinstance(fields, dict):
            for name, messages in fields.items():
                text = " ".join(messages) if isinstance(messages, list) else messages
                said.append(f"{name}: {text}")
    return "; ".join(said)


# -- where the server and token come from ----------------------------------


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


def _normalized_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise UsageError(f"the server URL must start with http:// or https://: {url}")
    path = parts.path.rstrip("/").removesuffix(API_PATH)
    return f"{parts.scheme}://{parts.netloc}{path}"


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


# -- the API over HTTP ------------------------------------------------------


@dataclass
class Event:
    """One server-sent event of a job's live stream."""

    id: int | None
    type: str
    data: dict[str, Any]


class ApiClient:
    """The public API at ``url``, as one person (``token``) sees it."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "tasks-api-client"

    def call(
        self,
        method: str,
        path: str,
        timeout: tuple[float, float] = TIMEOUT,
        **kwargs: Any,
    ) -> Any:
        """Send a request; the decoded JSON answer, or None for a 204."""
        response = self._send(method, path, timeout=timeout, **kwargs)
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:
            raise ClientError(
                f"{method} {path}: the server did not answer with JSON"
            ) from None

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        target = f"{self.url}{API_PATH}{path}"
        started = time.perf_counter()
        try:
            response = self.http.request(method, target, headers=headers, **kwargs)
        except requests.RequestException as error:
            raise ClientError(f"cannot reach {self.url}: {_reason(error)}") from None

        log.debug(
            "%s %s answered %d in %.0f ms",
            method,
            target,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if response.status_code >= 400:
            signed_out = response.status_code == 401 and self.token
            raise ApiError(
                response.status_code,
                _json_or_none(response),
                f"{response.status_code} {response.reason}",
                "Log in again with `tasks-api login`." if signed_out else "",
            )
        return response

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a list, following ``next_cursor``."""
        params = dict(params)
        while True:
            page = self.call("GET", path, params=params)
            yield page
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def events(self, job_id: str, after: int = 0) -> Iterator[Event]:
        """The job's events after event ``after``, until the stream ends."""
        headers = {"Accept": "text/event-stream"}
        if after:
            headers["Last-Event-ID"] = str(after)
        response = self._send(
            "GET",
            f"/jobs/{job_id}/live",
            headers=headers,
            stream=True,
            timeout=STREAM_TIMEOUT,
        )
        with response:
            if response.status_code == 204:
                return
            response.encoding = "utf-8"
            yield from _parse_events(response.iter_lines(decode_unicode=True))


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "it did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "the connection failed (is the server running?)"
    return type(error).__name__


def _json_or_none(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _parse_events(lines: Iterator[str]) -> Iterator[Event]:
    """Server-sent events from the stream's lines; comments are skipped."""
    fields: dict[str, str] = {}
    for line in lines:
        if line:
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if "data" in fields:
            raw_id = fields.get("id", "")
            yield Event(
                id=int(raw_id) if raw_id.isdigit() else None,
                type=fields.get("event", "message"),
                data=json.loads(fields["data"]),
            )
        fields = {}


# -- following a job --------------------------------------------------------


class ProgressBar:
    """A one-line progress bar on a terminal; plain lines elsewhere.

    On a terminal the line is redrawn in place. Into a file or a pipe it
    writes a line only when what it says changes, so a log stays short.
    """

    WIDTH = 24

    def __init__(self, out: IO[str], label: str) -> None:
        self.out = out
        self.label = label
        self.redraw = out.isatty()
        self.last = ""

    def show(self, percent: int, words: str) -> None:
        percent = max(0, min(100, percent))
        filled = round(self.WIDTH * percent / 100)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"{self.label} [{bar}] {percent:3d}% {words}"
        if line == self.last:
            return
        if self.redraw:
            padding = " " * max(0, len(self.last) - len(line))
            self.out.write(f"\r{line}{padding}")
        else:
            self.out.write(line + "\n")
        self.out.flush()
        self.last = line

    def close(self) -> None:
        if self.redraw and self.last:
            self.out.write("\n")
            self.out.flush()


def stage_words(job: dict[str, Any]) -> str:
    """What a job is doing, in a few words."""
    status = job.get("status")
    if status != "running":
        return str(status)
    if job.get("cancel_requested"):
        return "stopping"
    stage = job.get("stage")
    if stage == "ocr" and job.get("pages_total"):
        return f"ocr, page {job.get('pages_done', 0)} of {job['pages_total']} done"
    return str(stage or "running")


def follow_job(
    client: ApiClient, job_id: str, bar: ProgressBar | None
) -> dict[str, Any]:
    """Follow a job's live stream to its end; the finished job, text included.

    A dropped connection is resumed from the last event seen
    (``Last-Event-ID``); after ``MAX_STREAM_FAILURES`` failures in a row
    without an event in between, it gives up with a ``ClientError``.
    """
    job: dict[str, Any] = {"status": "queued", "progress": 0}
    seen = 0
    failures = 0
    while job["status"] not in FINISHED:
        try:
            with contextlib.closing(client.events(job_id, seen)) as events:
                for event in events:
                    seen = event.id or seen
                    failures = 0
                    _apply(job, event)
                    if bar is not None:
                        bar.show(int(job.get("progress") or 0), stage_words(job))
                    if event.type == "status" and job["status"] in FINISHED:
                        break
                else:
                    raise ConnectionError("the stream ended before the job did")
        except ApiError:
            raise
        except (ClientError, ConnectionError, requests.RequestException):
            failures += 1
            if failures > MAX_STREAM_FAILURES:
                raise ClientError(
                    f"lost the live stream of job {job_id} and could not "
                    f"resume it; try `tasks-api follow {job_id}` later"
                ) from None
            time.sleep(min(2 ** (failures - 1), 10))

    if bar is not None:
        bar.close()
    return client.call("GET", f"/jobs/{job_id}")


def _apply(job: dict[str, Any], event: Event) -> None:
    if event.type == "progress":
        job.update(
            stage=event.data.get("stage"),
            pages_done=event.data.get("pages_done"),
            pages_total=event.data.get("pages_total"),
            progress=event.data.get("percent", job.get("progress")),
        )
    elif event.type == "status":
        job.update(event.data)


def _exit_code_of(job: dict[str, Any]) -> int:
    if job["status"] == "succeeded":
        return EXIT_OK
    return EXIT_JOB_UNSUCCESSFUL if job["status"] in FINISHED else EXIT_OK


def _report_finished(job: dict[str, Any], args: argparse.Namespace) -> int:
    """Print the job as the options ask; the exit code its status means."""
    if _wants_json(args):
        _print_json(job)
    elif job["status"] == "succeeded":
        if getattr(args, "text", False):
            print(job.get("text") or "")
            print()
        print(job.get("summary") or "(no summary)")
    elif job["status"] == "failed":
        error = job.get("error") or {}
        _say(f"job {job['id']} failed: {error.get('message', 'no reason given')}")
    elif job["status"] == "cancelled":
        _say(f"job {job['id']} was cancelled")
    return _exit_code_of(job)


# -- output -----------------------------------------------------------------


def _wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _say(message: str) -> None:
    print(f"tasks-api: {message}", file=sys.stderr)


def _table(rows: list[list[str]], headings: list[str]) -> None:
    if not rows:
        return
    widths = [
        max(len(row[column]) for row in [headings, *rows])
        for column in range(len(headings))
    ]
    for row in [headings, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


def _shorten(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- the commands -----------------------------------------------------------

Command = Callable[[Any, argparse.Namespace], int]


def _command(run: Callable[[argparse.Namespace], int]) -> Command:
    """A command for ``set_defaults(run=...)``: errors become exit codes."""

    @functools.wraps(run)
    def wrapper(settings: Any, args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ClientError as error:
            _say(f"error: {error}")
            return error.exit_code
        except KeyboardInterrupt:
            _say("interrupted")
            return EXIT_INTERRUPTED

    return wrapper


def _client(args: argparse.Namespace, signed_in: bool = True) -> ApiClient:
    saved = load_config()
    url = server_url(args, saved)
    return ApiClient(url, access_token(args, saved, url) if signed_in else None)


def _password(args: argparse.Namespace, prompt: str) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(prompt)
    else:
        raise UsageError("no terminal to ask for the password: use --password-stdin")
    if not password:
        raise UsageError("the password is empty")
    return password


def _email(args: argparse.Namespace) -> str:
    if args.email:
        return args.email
    if not sys.stdin.isatty() or args.password_stdin:
        raise UsageError("give --email when the password comes from stdin")
    return input("Email: ").strip()


@_command
def login(args: argparse.Namespace) -> int:
    client = _client(args, signed_in=False)
    email = _email(args)
    password = _password(args, "Password: ")

    issued = client.call(
        "POST", "/auth/login", json={"email": email, "password": password}
    )
    expires_at = int(time.time()) + int(issued["expires_in"])
    path = save_config(
        {
            "url": client.url,
            "email": email,
            "token": issued["access_token"],
            "expires_at": expires_at,
        }
    )

    if _wants_json(args):
        _print_json(
            {
                "url": client.url,
                "email": email,
                "expires_in": issued["expires_in"],
                "config": str(path),
            }
        )
    else:
        minutes = int(issued["expires_in"]) // 60
        print(f"Logged in to {client.url} as {email} for {minutes} minutes.")
        print(f"The token is saved in {path}.")
    return EXIT_OK


@_command
def register(args: argparse.Namespace) -> int:
    client = _client(args, signed_in=False)
    email = _email(args)
    password = _password(args, "Choose a password (8 characters or more): ")

    user = client.call(
        "POST",
        "/auth/register",
        json={"email": email, "password": password, "name": args.name},
    )
    if _wants_json(args):
        _print_json(user)
    else:
        print(f"Created the account {user['email']} on {client.url}.")
        print(f"Log in with: tasks-api login --email {user['email']}")
    return EXIT_OK


@_command
def logout(args: argparse.Namespace) -> int:
    saved = load_config()
    if args.everywhere:
        url = server_url(args, saved)
        ApiClient(url, access_token(args, saved, url)).call("POST", "/auth/logout")

    had_token = bool(saved.pop("token", None))
    saved.pop("expires_at", None)
    if had_token:
        save_config(saved)

    if _wants_json(args):
        _print_json({"forgot_saved_token": had_token, "everywhere": args.everywhere})
    elif args.everywhere:
        print("Every token of yours on that server is revoked, on every device.")
    elif had_token:
        print("Logged out: the saved token is deleted from this computer.")
    else:
        print("There was no saved token.")
    return EXIT_OK


def _listing(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.limit:
        params["limit"] = args.limit
    if args.cursor:
        params["cursor"] = args.cursor
    return params


def _collect(
    client: ApiClient, path: str, params: dict[str, Any], every_page: bool
) -> dict[str, Any]:
    if not every_page:
        return client.call("GET", path, params=params)
    items: list[Any] = []
    for page in client.pages(path, params):
        items.extend(page["items"])
    return {"items": items, "next_cursor": None}


def _hint_next(page: dict[str, Any]) -> None:
    if page.get("next_cursor"):
        _say(f"more: add --cursor {page['next_cursor']} (or --all)")


@_command
def list_projects(args: argparse.Namespace) -> int:
    client = _client(args)
    page = _collect(client, "/projects", _listing(args), args.all)

    if _wants_json(args):
        _print_json(page)
        return EXIT_OK
    rows = [
        [p["id"], _shorten(p["name"], 40), _shorten(p.get("description") or "", 50)]
        for p in page["items"]
    ]
    _table(rows, ["ID", "NAME", "DESCRIPTION"])
    if not rows:
        print("No projects yet. Create one with: tasks-api projects create NAME")
    _hint_next(page)
    return EXIT_OK


@_command
def create_project(args: argparse.Namespace) -> int:
    client = _client(args)
    project = client.call(
        "POST",
        "/projects",
        json={"name": args.name, "description": args.description},
    )
    if _wants_json(args):
        _print_json(project)
    else:
        print(project["id"])
    return EXIT_OK


@_command
def list_tasks(args: argparse.Namespace) -> int:
    client = _client(args)
    params = _listing(args)
    for name in ("status", "priority", "sort"):
        if getattr(args, name):
            params[name] = getattr(args, name)
    if args.due_from:
        params["due_from"] = args.due_from.isoformat()
    if args.due_to:
        params["due_to"] = args.due_to.isoformat()
    page = _collect(client, f"/projects/{args.project}/tasks", params, args.all)

    if _wants_json(args):
        _print_json(page)
        return EXIT_OK
    rows = [
        [
            t["id"],
            t["status"],
            t["priority"],
            t.get("due_date") or "-",
            _shorten(t["title"]),
        ]
        for t in page["items"]
    ]
    _table(rows, ["ID", "STATUS", "PRIORITY", "DUE", "TITLE"])
    if not rows:
        print("No tasks match.")
    _hint_next(page)
    return EXIT_OK


@_command
def create_task(args: argparse.Namespace) -> int:
    client = _client(args)
    body: dict[str, Any] = {
        "title": args.title,
        "description": args.description,
        "status": args.status,
        "priority": args.priority,
    }
    if args.due:
        body["due_date"] = args.due.isoformat()
    task = client.call("POST", f"/projects/{args.project}/tasks", json=body)

    if _wants_json(args):
        _print_json(task)
    else:
        print(task["id"])
    return EXIT_OK


def _follow(
    client: ApiClient, job_id: str, args: argparse.Namespace, label: str
) -> dict[str, Any]:
    bar = None if args.quiet else ProgressBar(sys.stderr, label)
    try:
        return follow_job(client, job_id, bar)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        _say(
            f"stopped following; job {job_id} goes on. "
            f"Follow it again with: tasks-api follow {job_id}"
        )
        raise


@_command
def upload(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    client = _client(args)
    headers = {}
    if args.idempotency_key:
        headers["Idempotency-Key"] = args.idempotency_key

    with path.open("rb") as file:
        answer = client.call(
            "POST",
            f"/tasks/{args.task}/attachments",
            files={"file": (path.name, file)},
            data={"language": args.language},
            headers=headers,
            timeout=UPLOAD_TIMEOUT,
        )
    job_id = answer["job"]["id"]
    if args.no_follow:
        if _wants_json(args):
            _print_json(answer)
        else:
            print(job_id)
        return EXIT_OK

    if not args.quiet:
        _say(f"uploaded {path.name}: job {job_id}")
    job = _follow(client, job_id, args, path.name)
    if _wants_json(args):
        _print_json({"attachment": answer["attachment"], "job": job})
        return _exit_code_of(job)
    return _report_finished(job, args)


@_command
def follow(args: argparse.Namespace) -> int:
    client = _client(args)
    job = _follow(client, args.job, args, f"job {args.job}")
    return _report_finished(job, args)


@_command
def show_job(args: argparse.Namespace) -> int:
    client = _client(args)
    job = client.call("GET", f"/jobs/{args.job}")

    if _wants_json(args):
        _print_json(job)
        return _exit_code_of(job)
    print(f"status:   {job['status']}")
    print(f"stage:    {stage_words(job)}")
    print(f"progress: {job.get('progress', 0)}%")
    if job.get("error"):
        print(f"error:    {job['error'].get('message')}")
    if job.get("summary"):
        print()
        print(job["summary"])
    if args.text and job.get("text"):
        print()
        print(job["text"])
    return _exit_code_of(job)


# -- the parser -------------------------------------------------------------


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument(
        "--url",
        help=f"the server (default: ${URL_VARIABLE}, the saved login, "
        f"or {DEFAULT_URL})",
    )
    group.add_argument(
        "--token",
        help=f"an access token (default: ${TOKEN_VARIABLE} or the saved login)",
    )
    group.add_argument(
        "--json", action="store_true", help="print machine-readable JSON"
    )
    return common


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _add(
    commands: argparse._SubParsersAction,
    name: str,
    run: Command,
    help_text: str,
    description: str,
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    # Client commands run without the server's settings (no JWT_SECRET).
    parser.set_defaults(run=run, needs_settings=False)
    return parser


def _add_listing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=_positive, help="items per page (max 100)")
    parser.add_argument("--cursor", help="the page after this cursor")
    parser.add_argument(
        "--all", action="store_true", help="follow every page to the end"
    )


def _add_follow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--text", action="store_true", help="print the text read, before the summary"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar on stderr"
    )


def add_client_commands(commands: argparse._SubParsersAction) -> None:
    """Add the client commands to ``tasks-api``'s subcommands."""
    common = [_common_options()]

    signin = _add(
        commands,
        "login",
        login,
        "log in to a server and save the token",
        "Log in and save the access token, with the server URL, to "
        f"{_config_hint()} (mode 0600). Later commands use it for that "
        "server only. The password is asked for on the terminal, or read "
        "from the first line of stdin with --password-stdin.",
        common,
    )
    signin.add_argument("--email", help="the account's email")
    signin.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )

    signup = _add(
        commands,
        "register",
        register,
        "create an account on a server",
        "Create an account; then log in with `tasks-api login`.",
        common,
    )
    signup.add_argument("--email", help="the account's email")
    signup.add_argument("--name", required=True, help="your name")
    signup.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )

    signout = _add(
        commands,
        "logout",
        logout,
        "forget the saved token",
        "Delete the saved token from this computer. With --everywhere, "
        "first ask the server to revoke every token issued to you, which "
        "logs you out of every device and browser too.",
        common,
    )
    signout.add_argument(
        "--everywhere", action="store_true", help="revoke all your tokens on the server"
    )

    _add_project_commands(commands, common)
    _add_task_commands(commands, common)
    _add_job_commands(commands, common)


def _config_hint() -> str:
    return "$XDG_CONFIG_HOME/tasks-api/client.json (~/.config by default)"


def _add_project_commands(
    commands: argparse._SubParsersAction, common: list[argparse.ArgumentParser]
) -> None:
    projects = commands.add_parser(
        "projects", help="list or create projects", description="Your projects."
    )
    actions = projects.add_subparsers(title="actions", dest="action", required=True)

    listed = _add(
        actions,
        "list",
        list_projects,
        "list your projects, newest first",
        "List your projects, newest first, one page at a time.",
        common,
    )
    _add_listing_options(listed)

    created = _add(
        actions,
        "create",
        create_project,
        "create a project and print its id",
        "Create a project and print its id.",
        common,
    )
    created.add_argument("name", help="the project's name")
    created.add_argument("--description", default="", help="what it is about")


def _add_task_commands(
    commands: argparse._SubParsersAction, common: list[argparse.ArgumentParser]
) -> None:
    tasks = commands.add_parser(
        "tasks", help="list or create tasks", description="The tasks of a project."
    )
    actions = tasks.add_subparsers(title="actions", dest="action", required=True)

    listed = _add(
        actions,
        "list",
        list_tasks,
        "list a project's tasks, filtered and sorted",
        "List a project's tasks. Filters combine; dates are YYYY-MM-DD.",
        common,
    )
    listed.add_argument("--project", required=True, help="the project's id")
    listed.add_argument("--status", choices=[s.value for s in TaskStatus])
    listed.add_argument("--priority", choices=[p.value for p in Priority])
    listed.add_argument("--due-from", type=_day, help="due on or after this day")
    listed.add_argument("--due-to", type=_day, help="due on or before this day")
    listed.add_argument(
        "--sort",
        choices=[s.value for s in TaskSort],
        help="created or updated: newest first; priority: highest first; "
        "due: soonest first (default: created)",
    )
    _add_listing_options(listed)

    created = _add(
        actions,
        "create",
        create_task,
        "create a task and print its id",
        "Create a task in a project and print its id.",
        common,
    )
    created.add_argument("title", help="the task's title")
    created.add_argument("--project", required=True, help="the project's id")
    created.add_argument("--description", default="")
    created.add_argument(
        "--status", choices=[s.value for s in TaskStatus], default="todo"
    )
    created.add_argument(
        "--priority", choices=[p.value for p in Priority], default="medium"
    )
    created.add_argument("--due", type=_day, help="the due date, YYYY-MM-DD")


def _add_job_commands(
    commands: argparse._SubParsersAction, common: list[argparse.ArgumentParser]
) -> None:
    sent = _add(
        commands,
        "upload",
        upload,
        "attach a file to a task and follow its reading",
        "Attach a file (image, PDF or plain text) to a task. Unless "
        "--no-follow is given, follow its job live with a progress bar on "
        "stderr and print the summary on stdout when it is ready.",
        common,
    )
    sent.add_argument("file", help="the file to upload")
    sent.add_argument("--task", required=True, help="the task's id")
    sent.add_argument(
        "--language",
        default="eng",
        help="Tesseract language codes joined by + (default eng)",
    )
    sent.add_argument(
        "--no-follow", action="store_true", help="print the job id and return at once"
    )
    sent.add_argument(
        "--idempotency-key",
        help="retrying with the same key returns the first upload",
    )
    _add_follow_options(sent)

    followed = _add(
        commands,
        "follow",
        follow,
        "follow a job live until it ends",
        "Follow a job's live stream with a progress bar on stderr, then "
        "print its summary. Resumes by itself if the connection drops.",
        common,
    )
    followed.add_argument("job", help="the job's id")
    _add_follow_options(followed)

    shown = _add(
        commands,
        "job",
        show_job,
        "show a job's status and summary",
        "Show a job's status, stage, progress and summary.",
        common,
    )
    shown.add_argument("job", help="the job's id")
    shown.add_argument("--text", action="store_true", help="print the text read too")


def main(argv: list[str] | None = None) -> NoReturn:
    """The client commands alone: ``python -m tasks_api.entrypoints.client``."""
    parser = argparse.ArgumentParser(
        prog="tasks-api",
        description="A client of the Tasks API.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_client_commands(parser.add_subparsers(title="commands", required=True))
    args = parser.parse_args(argv)
    sys.exit(args.run(None, args))


if __name__ == "__main__":
    main()
