"""Password hashing with Argon2id, through argon2-cffi."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from tasks_api.adapters.concurrency import off_the_loop
from tasks_api.ports.security import PasswordHasher


class Argon2PasswordHasher(PasswordHasher):
    """Argon2id with argon2-cffi's recommended parameters.

    One hash costs about 50 ms of CPU and 64 MiB of memory by default. Under
    gevent that would stall every greenlet of the process, open streams
    included, so hashing and verifying run on gevent's thread pool (argon2
    releases the GIL). Tests pass cheaper parameters.
    """

    def __init__(
        self,
        time_cost: int | None = None,
        memory_cost: int | None = None,
        parallelism: int | None = None,
    ) -> None:
        overrides = {
            "time_cost": time_cost,
            "memory_cost": memory_cost,
            "parallelism": parallelism,
        }
        self._argon2 = _Argon2(
            **{name: value for name, value in overrides.items() if value}
        )
        # Made now, not at the first unknown email, which would otherwise
        # take twice as long as every later one.
        self._decoy_hash = self.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return off_the_loop(self._argon2.hash, password)

    def verify(self, password_hash: str, password: str) -> bool:
        return off_the_loop(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)

    def verify_decoy(self, password: str) -> None:
        self.verify(self._decoy_hash, password)
