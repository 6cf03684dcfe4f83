"""Access tokens as HS256 JSON Web Tokens, through PyJWT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from tasks_api.domain.errors import Unauthenticated
from tasks_api.ports.security import IssuedToken, TokenClaims, TokenIssuer

ALGORITHM = "HS256"


class JwtTokenIssuer(TokenIssuer):
    """Signs and checks HS256 tokens carrying ``sub``, ``iat``, ``exp``, ``ver``.

    Only HS256 is accepted on the way in, so ``alg: none`` and tokens signed
    with another algorithm or key fail like any forged token.
    """

    def __init__(self, secret: str, lifetime_seconds: int = 3600) -> None:
        self._secret = secret
        self._lifetime = lifetime_seconds

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
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("The token has expired.") from error
        except jwt.InvalidTokenError as error:
            raise Unauthenticated("The token is not valid.") from error

        version = claims.get("ver", 0)
        if not isinstance(claims["sub"], str) or not isinstance(version, int):
            raise Unauthenticated("The token is not valid.")
        return TokenClaims(user_id=claims["sub"], token_version=version)
