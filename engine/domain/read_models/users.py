"""Read models: users."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class TokenView(TypedDict):
    id: int
    user_id: int
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    state: str


class IssuedTokenView(TokenView):
    token: str


class UserView(TypedDict):
    id: int
    name: str
    region: str | None
    roles: list[str]
    active: bool
    created_at: datetime
    tokens: list[TokenView]
