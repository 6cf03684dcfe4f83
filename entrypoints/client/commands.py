"""The commands themselves: each reads its options, calls the API, prints."""

from __future__ import annotations

import argparse
import functools
import getpass
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks_api.entrypoints.client.api import UPLOAD_TIMEOUT, ApiClient
from tasks_api.entrypoints.client.config import (
    access_token,
    load_config,
    save_config,
    server_url,
)
from tasks_api.entrypoints.client.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ClientError,
    UsageError,
)
from tasks_api.entrypoints.client.follow import (
    exit_code_of,
    report_finished,
    stage_words,
    watch_job,
)
from tasks_api.entrypoints.client.output import (
    print_json,
    say,
    shorten,
    table,
    wants_json,
)

Command = Callable[[Any, argparse.Namespace], int]


def _command(run: Callable[[argparse.Namespace], int]) -> Command:
    """A command for ``set_defaults(run=...)``: errors become exit codes."""

    @functools.wraps(run)
    def wrapper(settings: Any, args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ClientError as error:
            say(f"error: {error}")
            return error.exit_code
        except KeyboardInterrupt:
            say("interrupted")
            return EXIT_INTERRUPTED

    return wrapper


def _client(args: argparse.Namespace, signed_in: bool = True) -> ApiClient:
    saved = load_config()
    url = server_url(args, saved)
    return ApiClient(url, access_token(args, saved, url) if signed_in else None)


# -- account ----------------------------------------------------------------


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

    if wants_json(args):
        print_json(
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
    if wants_json(args):
        print_json(user)
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

    if wants_json(args):
        print_json({"forgot_saved_token": had_token, "everywhere": args.everywhere})
    elif args.everywhere:
        print("Every token of yours on that server is revoked, on every device.")
    elif had_token:
        print("Logged out: the saved token is deleted from this computer.")
    else:
        print("There was no saved token.")
    return EXIT_OK


# -- projects and tasks -----------------------------------------------------


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


def _print_page(
    args: argparse.Namespace,
    page: dict[str, Any],
    headings: list[str],
    row_of: Callable[[dict[str, Any]], list[str]],
    when_empty: str,
) -> int:
    """Print a page as JSON, or as a table with a hint at the next page."""
    if wants_json(args):
        print_json(page)
        return EXIT_OK
    rows = [row_of(item) for item in page["items"]]
    table(rows, headings)
    if not rows:
        print(when_empty)
    if page.get("next_cursor"):
        say(f"more: add --cursor {page['next_cursor']} (or --all)")
    return EXIT_OK


def _print_created(args: argparse.Namespace, created: dict[str, Any]) -> int:
    """Print what was created as JSON, or only its id."""
    if wants_json(args):
        print_json(created)
    else:
        print(created["id"])
    return EXIT_OK


def _project_row(project: dict[str, Any]) -> list[str]:
    return [
        project["id"],
        shorten(project["name"], 40),
        shorten(project.get("description") or "", 50),
    ]


def _task_row(task: dict[str, Any]) -> list[str]:
    return [
        task["id"],
        task["status"],
        task["priority"],
        task.get("due_date") or "-",
        shorten(task["title"]),
    ]


@_command
def list_projects(args: argparse.Namespace) -> int:
    client = _client(args)
    page = _collect(client, "/projects", _listing(args), args.all)

    return _print_page(
        args,
        page,
        ["ID", "NAME", "DESCRIPTION"],
        _project_row,
        "No projects yet. Create one with: tasks-api projects create NAME",
    )


@_command
def create_project(args: argparse.Namespace) -> int:
    client = _client(args)
    project = client.call(
        "POST",
        "/projects",
        json={"name": args.name, "description": args.description},
    )
    return _print_created(args, project)


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

    return _print_page(
        args,
        page,
        ["ID", "STATUS", "PRIORITY", "DUE", "TITLE"],
        _task_row,
        "No tasks match.",
    )


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
    return _print_created(args, task)


# -- jobs -------------------------------------------------------------------


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
        if wants_json(args):
            print_json(answer)
        else:
            print(job_id)
        return EXIT_OK

    if not args.quiet:
        say(f"uploaded {path.name}: job {job_id}")
    job = watch_job(client, job_id, path.name, args.quiet)
    if wants_json(args):
        print_json({"attachment": answer["attachment"], "job": job})
        return exit_code_of(job)
    return report_finished(job, args)


@_command
def follow(args: argparse.Namespace) -> int:
    client = _client(args)
    job = watch_job(client, args.job, f"job {args.job}", args.quiet)
    return report_finished(job, args)


@_command
def show_job(args: argparse.Namespace) -> int:
    client = _client(args)
    job = client.call("GET", f"/jobs/{args.job}")

    if wants_json(args):
        print_json(job)
        return exit_code_of(job)
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
    return exit_code_of(job)
