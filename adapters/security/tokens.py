"""Access tokens as HS256 JSON Web Tokens, through PyJWT."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt

from tasks_api.domain.errors import Unauthenticated
from tasks_api.ports.security import IssuedToken, TokenClaims, TokenIssuer

ALGORITHM = "HS256"
STREAM_AUDIENCE = "job-stream"


class JwtTokenIssuer(TokenIssuer):
    """Signs and checks HS256 tokens carrying ``sub``, ``iat``, ``exp``, ``ver``.

    Only HS256 is accepted on the way in, so ``alg: none`` and tokens signed
    with another algorithm or key fail like any forged token.

    Checking a signature costs about 100 microseconds, paid on every
    request; the claims of tokens already checked are kept (up to
    ``cache_size`` tokens) until they expire. Revocation is unaffected: the
    caller still compares the token's version with the user's.
    """

    def __init__(
        self,
        secret: str,
        lifetime_seconds: int = 3600,
        stream_lifetime_seconds: int = 300,
        cache_size: int = 10_000,
    ) -> None:
        self._secret = secret
        self._lifetime = lifetime_seconds
        self._stream_lifetime = stream_lifetime_seconds
        self._cache_size = cache_size
        self._checked: dict[str, tuple[float, TokenClaims]] = {}

    def issue(self, user_id: str, token_version: int) -> IssuedToken:
        now = datetime.now(UTC)
        claims = {
            "sub": user_id,
            "iat": now,
            "exp": now + timedelta(seconds=self._lifetime),
            "ver": token_version,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token=token, expires_in=self._lifetime)

    def verify(self, token: str) -> TokenClaims:
        checked = self._checked.get(token)
        if checked is not None and checked[0] > time.time():
            return checked[1]

        claims = self._decode(token)
        if "aud" in claims:
            raise Unauthenticated("The token is not valid.")

        verified = _token_claims(claims)
        if len(self._checked) >= self._cache_size:
            self._checked.clear()
        self._checked[token] = (float(claims["exp"]), verified)
        return verified

    def issue_stream_token(
        self, user_id: str, token_version: int, job_id: str
    ) -> IssuedToken:
        now = datetime.now(UTC)
        claims = {
            "sub": user_id,
            "aud": STREAM_AUDIENCE,
            "job": job_id,
            "iat": now,
            "exp": now + timedelta(seconds=self._stream_lifetime),
            "ver": token_version,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token=token, expires_in=self._stream_lifetime)

    def verify_stream_token(self, token: str, job_id: str) -> TokenClaims:
        claims = self._decode(token, audience=STREAM_AUDIENCE)
        if claims.get("job") != job_id:
            raise Unauthenticated("The stream token is not for this job.")
        return _token_claims(claims)

    def _decode(self, token: str, audience: str | None = None) -> dict:
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=audience,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("The token has expired.") from error
        except jwt.InvalidTokenError as error:
            raise Unauthenticated("The token is not valid.") from error


def _token_claims(claims: dict) -> TokenClaims:
    """The user and token version a decoded token names; raise if malformed."""
    version = claims.get("ver", 0)
    if not isinstance(claims["sub"], str) or not isinstance(version, int):
        raise Unauthenticated("The token is not valid.")
    return TokenClaims(user_id=claims["sub"], token_version=version)
