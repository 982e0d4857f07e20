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
    context = g._get_current_object()  # (each `g.` is a context lookup)
    actor: Actor | None = context.get("actor")
    if actor is None:
        header = request.environ.get("HTTP_AUTHORIZATION", "")  # as `request.headers` reads it
        scheme, _, token = header.partition(" ")
        actor = authenticate(ctx(), token.strip() if scheme.lower() == "bearer" else None)
        context.actor = actor
    return actor
