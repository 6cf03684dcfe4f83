"""Registering, logging in, and who the token belongs to."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from tasks_api.domain.model import User
from tasks_api.entrypoints.http.common import container, current_user, protected
from tasks_api.entrypoints.http.errors import ErrorSchema
from tasks_api.entrypoints.http.schemas import (
    LoginSchema,
    RegisterSchema,
    TokenSchema,
    UserSchema,
)

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens."
)


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="The email is taken.")
    def post(self, body: dict) -> User:
        """Create an account."""
        return container().auth().register(**body)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(
        401, schema=ErrorSchema, description="The email or password is wrong."
    )
    def post(self, body: dict) -> dict:
        """Exchange an email and password for a bearer token."""
        issued = container().auth().login(body["email"], body["password"])
        return {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
        }


@blp.route("/me")
class Me(MethodView):
    @protected(blp)
    @blp.response(200, UserSchema)
    def get(self) -> User:
        """The account the token belongs to."""
        return current_user()
