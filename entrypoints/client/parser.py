"""The client commands' options, help texts and exit codes, for argparse."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import NoReturn

from tasks_api.domain.listing import TaskSort
from tasks_api.domain.model import Priority, TaskStatus
from tasks_api.entrypoints.client import commands
from tasks_api.entrypoints.client.commands import Command
from tasks_api.entrypoints.client.config import (
    CONFIG_FILE_HELP,
    DEFAULT_URL,
    TOKEN_VARIABLE,
    URL_VARIABLE,
)
from tasks_api.entrypoints.client.errors import EXIT_CODES_HELP

Subcommands = argparse._SubParsersAction

STATUSES = [status.value for status in TaskStatus]
PRIORITIES = [priority.value for priority in Priority]


def add_client_commands(subcommands: Subcommands) -> None:
    """Add the client commands to ``tasks-api``'s subcommands."""
    _add_account_commands(subcommands)
    _add_project_commands(subcommands)
    _add_task_commands(subcommands)
    _add_job_commands(subcommands)


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


def _add_account_commands(subcommands: Subcommands) -> None:
    signin = _add(
        subcommands,
        "login",
        commands.login,
        "log in to a server and save the token",
        "Log in and save the access token, with the server URL, to "
        f"{CONFIG_FILE_HELP} (mode 0600). Later commands use it for that "
        "server only. The password is asked for on the terminal, or read "
        "from the first line of stdin with --password-stdin.",
    )
    signin.add_argument("--email", help="the account's email")
    signin.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )

    signup = _add(
        subcommands,
        "register",
        commands.register,
        "create an account on a server",
        "Create an account; then log in with `tasks-api login`.",
    )
    signup.add_argument("--email", help="the account's email")
    signup.add_argument("--name", required=True, help="your name")
    signup.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )

    signout = _add(
        subcommands,
        "logout",
        commands.logout,
        "forget the saved token",
        "Delete the saved token from this computer. With --everywhere, "
        "first ask the server to revoke every token issued to you, which "
        "logs you out of every device and browser too.",
    )
    signout.add_argument(
        "--everywhere", action="store_true", help="revoke all your tokens on the server"
    )


def _add_project_commands(subcommands: Subcommands) -> None:
    actions = _add_group(
        subcommands, "projects", "list or create projects", "Your projects."
    )

    listed = _add(
        actions,
        "list",
        commands.list_projects,
        "list your projects, newest first",
        "List your projects, newest first, one page at a time.",
    )
    _add_listing_options(listed)

    created = _add(
        actions,
        "create",
        commands.create_project,
        "create a project and print its id",
        "Create a project and print its id.",
    )
    created.add_argument("name", help="the project's name")
    created.add_argument("--description", default="", help="what it is about")


def _add_task_commands(subcommands: Subcommands) -> None:
    actions = _add_group(
        subcommands, "tasks", "list or create tasks", "The tasks of a project."
    )

    listed = _add(
        actions,
        "list",
        commands.list_tasks,
        "list a project's tasks, filtered and sorted",
        "List a project's tasks. Filters combine; dates are YYYY-MM-DD.",
    )
    listed.add_argument("--project", required=True, help="the project's id")
    listed.add_argument("--status", choices=STATUSES)
    listed.add_argument("--priority", choices=PRIORITIES)
    listed.add_argument("--due-from", type=_day, help="due on or after this day")
    listed.add_argument("--due-to", type=_day, help="due on or before this day")
    listed.add_argument(
        "--sort",
        choices=[sort.value for sort in TaskSort],
        help="created or updated: newest first; priority: highest first; "
        "due: soonest first (default: created)",
    )
    _add_listing_options(listed)

    created = _add(
        actions,
        "create",
        commands.create_task,
        "create a task and print its id",
        "Create a task in a project and print its id.",
    )
    created.add_argument("title", help="the task's title")
    created.add_argument("--project", required=True, help="the project's id")
    created.add_argument("--description", default="")
    created.add_argument("--status", choices=STATUSES, default="todo")
    created.add_argument("--priority", choices=PRIORITIES, default="medium")
    created.add_argument("--due", type=_day, help="the due date, YYYY-MM-DD")


def _add_job_commands(subcommands: Subcommands) -> None:
    sent = _add(
        subcommands,
        "upload",
        commands.upload,
        "attach a file to a task and follow its reading",
        "Attach a file (image, PDF or plain text) to a task. Unless "
        "--no-follow is given, follow its job live with a progress bar on "
        "stderr and print the summary on stdout when it is ready.",
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
        subcommands,
        "follow",
        commands.follow,
        "follow a job live until it ends",
        "Follow a job's live stream with a progress bar on stderr, then "
        "print its summary. Resumes by itself if the connection drops.",
    )
    followed.add_argument("job", help="the job's id")
    _add_follow_options(followed)

    shown = _add(
        subcommands,
        "job",
        commands.show_job,
        "show a job's status and summary",
        "Show a job's status, stage, progress and summary.",
    )
    shown.add_argument("job", help="the job's id")
    shown.add_argument("--text", action="store_true", help="print the text read too")


def _add(
    subcommands: Subcommands,
    name: str,
    run: Command,
    help_text: str,
    description: str,
) -> argparse.ArgumentParser:
    """A client command, with the connection and output options."""
    parser = subcommands.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options()],
    )
    # Client commands run without the server's settings (no JWT_SECRET).
    parser.set_defaults(run=run, needs_settings=False)
    return parser


def _add_group(
    subcommands: Subcommands, name: str, help_text: str, description: str
) -> Subcommands:
    """A command such as ``projects`` whose actions are subcommands."""
    group = subcommands.add_parser(name, help=help_text, description=description)
    return group.add_subparsers(title="actions", dest="action", required=True)


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
