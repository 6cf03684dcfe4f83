"""Ports for password hashing and access tokens."""

from __future__ import annotations

import abc
from dataclasses import dataclass


class PasswordHasher(abc.ABC):
    @abc.abstractmethod
    def hash(self, password: str) -> str: ...

    @abc.abstractmethod
    def verify(self, password_hash: str, password: str) -> bool:
        """True when the password matches; never raises for a mismatch."""

    @abc.abstractmethod
    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than today's."""

    @abc.abstractmethod
    def verify_decoy(self, password: str) -> None:
        """Spend what ``verify`` spends, on a hash of no one's password.

        A login whose email is unknown calls it, so that it takes as long
        as one with a wrong password.
        """


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    token_version: int


class TokenIssuer(abc.ABC):
    @abc.abstractmethod
    def issue(self, user_id: str, token_version: int) -> IssuedToken: ...

    @abc.abstractmethod
    def verify(self, token: str) -> TokenClaims:
        """Return the claims of a valid access token; raise ``Unauthenticated``."""

    @abc.abstractmethod
    def issue_stream_token(
        self, user_id: str, token_version: int, job_id: str
    ) -> IssuedToken:
        """A short-lived token good only for following one job's stream.

        Browsers' EventSource cannot send headers, so this token travels in
        the URL; being scoped and short-lived, it is worth little if logged.
        """

    @abc.abstractmethod
    def verify_stream_token(self, token: str, job_id: str) -> TokenClaims:
        """The claims of a stream token for ``job_id``; raise ``Unauthenticated``."""
