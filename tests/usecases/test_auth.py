"""Auth use cases: what a failed login gives away, and what signing out revokes."""

from __future__ import annotations

import pytest
from accounts import TEST_SECRET

from tasks_api.adapters.security.passwords import Argon2PasswordHasher
from tasks_api.adapters.security.tokens import JwtTokenIssuer
from tasks_api.adapters.storage.memory import InMemoryStorage
from tasks_api.domain.errors import Unauthenticated
from tasks_api.usecases.auth import MAX_PASSWORD_LENGTH, AuthService


class CountingHasher(Argon2PasswordHasher):
    """Argon2id at its lowest cost, counting the verifications it runs."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return super().verify(password_hash, password)


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def auth(hasher: CountingHasher) -> AuthService:
    service = AuthService(InMemoryStorage(), hasher, JwtTokenIssuer(TEST_SECRET))
    service.register("alice@example.com", "correct horse battery", "Alice")
    return service


def _verifications_of_failed_login(
    auth: AuthService, hasher: CountingHasher, email: str, password: str
) -> int:
    before = hasher.verified
    with pytest.raises(Unauthenticated, match="The email or password is wrong"):
        auth.login(email, password)
    return hasher.verified - before


def test_an_unknown_email_costs_the_same_argon2_work_as_a_wrong_password(
    auth: AuthService, hasher: CountingHasher
) -> None:
    wrong_password = _verifications_of_failed_login(
        auth, hasher, "alice@example.com", "not her password"
    )
    unknown_email = _verifications_of_failed_login(
        auth, hasher, "nobody@example.com", "not her password"
    )
    unknown_again = _verifications_of_failed_login(
        auth, hasher, "someone@example.com", "another guess"
    )

    assert wrong_password == unknown_email == unknown_again == 1


def test_an_overlong_password_is_refused_before_any_lookup_or_hashing(
    auth: AuthService, hasher: CountingHasher
) -> None:
    overlong = "x" * (MAX_PASSWORD_LENGTH + 1)

    known = _verifications_of_failed_login(auth, hasher, "alice@example.com", overlong)
    unknown = _verifications_of_failed_login(
        auth, hasher, "nobody@example.com", overlong
    )

    assert known == unknown == 0


def test_the_right_password_still_logs_in(auth: AuthService) -> None:
    issued = auth.login("Alice@Example.com", "correct horse battery")

    assert auth.authenticate(issued.token).email == "alice@example.com"


@pytest.mark.parametrize("sign_out", ["logout", "password change"])
def test_signing_out_revokes_stream_tokens_too(
    auth: AuthService, sign_out: str
) -> None:
    alice = auth.authenticate(
        auth.login("alice@example.com", "correct horse battery").token
    )
    stream_token = auth.stream_token(alice, "job-1").token
    assert auth.authenticate_stream(stream_token, "job-1").id == alice.id

    if sign_out == "logout":
        auth.logout(alice)
    else:
        auth.change_password(alice, "correct horse battery", "a brand new one")

    with pytest.raises(Unauthenticated, match="no longer valid"):
        auth.authenticate_stream(stream_token, "job-1")
