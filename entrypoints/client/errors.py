"""The exit codes, and the errors that end a command with one of them."""

from __future__ import annotations

from typing import Any

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
