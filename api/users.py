"""Users and tokens (admins): list, add, issue and revoke tokens, disable; a region's powers."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.config import token_lifetime
from api.schemas import (
    IssuedTokenSchema,
    PowersSchema,
    TokenSchema,
    UserCreatedSchema,
    UserListArgsSchema,
    UserNewSchema,
    UserSchema,
)
from api.wiring import ctx
from engine.services import regions, users

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users, tokens, powers")


def _lifetime() -> Any:
    return token_lifetime(current_app.config["TOKEN_LIFETIME_DAYS"])


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserListArgsSchema, location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List users and their tokens' states (admin)"""
        return users.list_users(ctx(), current_actor(), args.get("region"))

    @blp.arguments(UserNewSchema)
    @blp.response(201, UserCreatedSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Add a user with known roles only (admin); the token is in this answer only"""
        return users.add_user(
            ctx(), current_actor(), body["name"], body["roles"], body["region"], _lifetime()
        )


@blp.route("/users/<int:user_id>/tokens")
class Tokens(MethodView):
    @blp.response(201, IssuedTokenSchema)
    def post(self, user_id: int) -> Any:
        """Issue a new token to a user (admin); the token is in this answer only"""
        return users.issue_token(ctx(), current_actor(), user_id, _lifetime())


@blp.route("/users/<int:user_id>/tokens/<int:token_id>")
class Token(MethodView):
    @blp.response(200, TokenSchema)
    def delete(self, user_id: int, token_id: int) -> Any:
        """Revoke a token (admin): it answers 401 from now on"""
        return users.revoke_token(ctx(), current_actor(), user_id, token_id)


@blp.route("/users/<int:user_id>/disable")
class Disable(MethodView):
    @blp.response(200, UserSchema)
    def post(self, user_id: int) -> Any:
        """Disable a user (admin): every token of theirs answers 401 from now on"""
        return users.disable_user(ctx(), current_actor(), user_id)


@blp.route("/regions/<region>/powers")
class Powers(MethodView):
    @blp.response(200, PowersSchema)
    def get(self, region: str) -> Any:
        """Which roles act for the applicant and record payments in a region"""
        return regions.get_powers(ctx(), current_actor(), region)

    @blp.arguments(PowersSchema)
    @blp.response(200, PowersSchema)
    def put(self, body: dict[str, Any], region: str) -> Any:
        """Declare which roles hold each power in a region (admin); a power left out keeps
        its default (acts-for-applicant: front-office; records-payments: cashier,
        front-office); audited"""
        return regions.set_powers(ctx(), current_actor(), region, body)
