"""Registering, logging in, and resolving a token to its user."""

from __future__ import annotations

import logging

from tasks_api.domain.errors import InvalidInput, Unauthenticated
from tasks_api.domain.model import User
from tasks_api.ports.security import IssuedToken, PasswordHasher, TokenIssuer
from tasks_api.ports.storage import Storage

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
# Argon2 hashes whatever it is given, but a megabyte password is an easy way
# to make the server burn CPU; no password manager makes one this long.
MAX_PASSWORD_LENGTH = 1024


def normalize_email(email: str) -> str:
    """Emails are unique whatever their case, so they are kept in lower case."""
    return email.strip().lower()


class AuthService:
    def __init__(
        self,
        storage: Storage,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
    ) -> None:
        self._storage = storage
        self._hasher = hasher
        self._tokens = tokens

    def register(self, email: str, password: str, name: str) -> User:
        _check_password(password)
        user = User(
            email=normalize_email(email),
            name=name.strip(),
            password_hash=self._hasher.hash(password),
        )

        self._storage.users.add(user)
        log.info("Registered user %r.", user.id)
        return user

    def login(self, email: str, password: str) -> IssuedToken:
        """Exchange credentials for an access token.

        A wrong email and a wrong password fail the same way and take as
        long, so neither the answer nor its timing tells which accounts
        exist.
        """
        if len(password) > MAX_PASSWORD_LENGTH:
            raise Unauthenticated("The email or password is wrong.")
        user = self._storage.users.get_by_email(normalize_email(email))
        if user is None:
            self._hasher.verify_decoy(password)
            raise Unauthenticated("The email or password is wrong.")
        if not self._hasher.verify(user.password_hash, password):
            raise Unauthenticated("The email or password is wrong.")

        if self._hasher.needs_rehash(user.password_hash):
            user.password_hash = self._hasher.hash(password)
            self._storage.users.update(user)

        return self._tokens.issue(user.id, user.token_version)

    def authenticate(self, token: str) -> User:
        """The user a bearer token speaks for; raise ``Unauthenticated``."""
        claims = self._tokens.verify(token)
        user = self._storage.users.get(claims.user_id)
        if user is None or user.token_version != claims.token_version:
            raise Unauthenticated("The token is no longer valid.")
        return user

    def logout(self, user: User) -> None:
        """End every session of the user: all tokens issued so far stop working."""
        user.token_version += 1
        self._storage.users.update(user)
        log.info("User %r logged out everywhere.", user.id)

    def change_password(
        self, user: User, current_password: str, new_password: str
    ) -> IssuedToken:
        """Set a new password, revoke every earlier token, and issue a fresh one."""
        if not self._hasher.verify(user.password_hash, current_password):
            # Not Unauthenticated: the token is fine, and a client told 401
            # would throw it away.
            raise InvalidInput(
                "The current password is wrong.", field="current_password"
            )
        _check_password(new_password)

        user.password_hash = self._hasher.hash(new_password)
        user.token_version += 1
        self._storage.users.update(user)
        log.info("User %r changed their password.", user.id)
        return self._tokens.issue(user.id, user.token_version)

    def stream_token(self, user: User, job_id: str) -> IssuedToken:
        """A token that lets a browser's EventSource follow one job.

        It carries the user's token version, so logging out or changing the
        password revokes it with every other token.
        """
        return self._tokens.issue_stream_token(user.id, user.token_version, job_id)

    def authenticate_stream(self, token: str, job_id: str) -> User:
        """The user a stream token for ``job_id`` speaks for."""
        claims = self._tokens.verify_stream_token(token, job_id)
        user = self._storage.users.get(claims.user_id)
        if user is None or user.token_version != claims.token_version:
            raise Unauthenticated("The token is no longer valid.")
        return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"A password may have at most {MAX_PASSWORD_LENGTH} characters.",
            field="password",
        )
