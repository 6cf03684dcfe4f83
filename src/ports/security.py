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
        """Return the claims of a valid token; raise ``Unauthenticated``."""
