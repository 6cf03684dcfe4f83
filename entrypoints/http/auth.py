"""Registering, logging in, and who the token belongs to."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from tasks_api.domain.errors import Unauthenticated
from tasks_api.domain.model import User
from tasks_api.entrypoints.http.common import (
    Blueprint,
    container,
    current_user,
    protected,
)
from tasks_api.entrypoints.http.errors import ErrorSchema
from tasks_api.entrypoints.http.limits import login_throttle
from tasks_api.entrypoints.http.schemas import (
    LoginSchema,
    PasswordChangeSchema,
    RegisterSchema,
    TokenSchema,
    UserSchema,
)
from tasks_api.ports.security import IssuedToken

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens."
)


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema())
    @blp.response(201, UserSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="The email is taken.")
    def post(self, body: dict) -> User:
        """Create an account."""
        return container().auth().register(**body)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema())
    @blp.response(200, TokenSchema)
    @blp.alt_response(
        401, schema=ErrorSchema, description="The email or password is wrong."
    )
    @blp.alt_response(429, schema=ErrorSchema, description="Too many failed logins.")
    def post(self, body: dict) -> dict:
        """Exchange an email and password for a bearer token."""
        throttle = login_throttle()
        address = request.remote_addr or "-"
        throttle.check(address, body["email"])

        try:
            issued = container().auth().login(body["email"], body["password"])
        except Unauthenticated:
            throttle.record_failure(address, body["email"])
            raise
        return _token_body(issued)


@blp.route("/logout")
class Logout(MethodView):
    @protected(blp)
    @blp.response(204)
    def post(self) -> None:
        """Revoke every token issued to you so far, on every device."""
        container().auth().logout(current_user())


@blp.route("/password")
class Password(MethodView):
    @protected(blp)
    @blp.arguments(PasswordChangeSchema())
    @blp.response(200, TokenSchema)
    @blp.alt_response(
        422, schema=ErrorSchema, description="The current password is wrong."
    )
    def post(self, body: dict) -> dict:
        """Change your password; earlier tokens stop working, a new one is returned."""
        issued = (
            container()
            .auth()
            .change_password(
                current_user(), body["current_password"], body["new_password"]
            )
        )
        return _token_body(issued)


@blp.route("/me")
class Me(MethodView):
    @protected(blp)
    @blp.response(200, UserSchema)
    def get(self) -> User:
        """The account the token belongs to."""
        return current_user()


def _token_body(issued: IssuedToken) -> dict:
    return {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
    }
