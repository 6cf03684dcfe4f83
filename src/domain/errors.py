"""Errors the core raises. Only the entrypoints turn them into status codes.

DomainError
├── NotFound           the thing does not exist, or is not the caller's
├── Conflict           the request contradicts the current state
│   └── EmailTaken
├── InvalidInput       a value breaks a rule the schema cannot express
├── Unauthenticated    no credentials, or credentials that do not hold
├── TooLarge           an upload is over the size limit
├── UnsupportedMedia   an upload is of a type we do not read
└── TooMany            a per-user cap is reached
"""


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """Raised when a thing does not exist or belongs to someone else."""

    code = "not_found"


class Conflict(DomainError):
    """Raised when a request contradicts the current state of a thing."""

    code = "conflict"


class EmailTaken(Conflict):
    """Raised when registering an email that another account already has."""

    code = "email_taken"


class InvalidInput(DomainError):
    """Raised when a value breaks a rule that a schema cannot express."""

    code = "invalid_input"


class Unauthenticated(DomainError):
    """Raised when credentials are missing, wrong, expired or revoked."""

    code = "unauthenticated"


class TooLarge(DomainError):
    """Raised when an upload is over the configured size limit."""

    code = "too_large"


class UnsupportedMedia(DomainError):
    """Raised when an upload's bytes are of a type the service does not read."""

    code = "unsupported_media"


class TooMany(DomainError):
    """Raised when a per-user cap (jobs in flight, open streams) is reached."""

    code = "too_many"


class JobError(DomainError):
    """Base of the errors that end or interrupt a job's processing."""

    code = "job_error"


class UnreadableDocument(JobError):
    """Raised when a document cannot be read; retrying would not help.

    ``code`` names the reason for programs (``too_many_pages``,
    ``encrypted_pdf``, ...) and the message says it to a person.
    """

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message, **details)
        self.code = code


class TransientFailure(JobError):
    """Raised when an outside service failed in a way worth retrying.

    ``retry_after`` is the delay in seconds the service asked for, if any.
    """

    code = "transient_failure"

    def __init__(
        self, message: str, retry_after: float | None = None, **details: object
    ) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class JobCancelled(JobError):
    """Raised inside processing when the job was cancelled meanwhile."""

    code = "cancelled"
