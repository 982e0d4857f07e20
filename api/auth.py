"""Bearer tokens to actors. Services decide what an actor may do; views pass it along."""

from __future__ import annotations

from flask import g, request

from api.wiring import ctx
from engine.domain.actors import Actor
from engine.services.users import authenticate


def current_actor() -> Actor:
    """The authenticated caller of this request.

    Raises: AuthenticationError (answered as 401 problem+json).
    """
    actor: Actor | None = g.get("actor")
    if actor is None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        actor = authenticate(ctx(), token.strip() if scheme.lower() == "bearer" else None)
        g.actor = actor
    return actor
