"""Signing in to the web console: a bearer token becomes a signed, expiring session cookie.

The cookie (Flask's signed session: `HttpOnly`, `SameSite=Lax`, `Secure` by configuration)
holds the user's id and the SHA-256 of the token, never the token itself. Each request
looks the user up by that hash, so a token that is revoked, disabled or expired ends its
sessions too, and pages act with the very `Actor` the API would. Every form post carries
the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from time import time

from flask import abort, current_app, g, request, session

from api.wiring import ctx
from engine.domain.actors import Actor
from engine.domain.errors import AuthenticationError
from engine.services.users import actor_for_token_hash, authenticate, hash_token

CSRF_FIELD = "csrf_token"


def sign_in(token: str) -> Actor:
    """Check `token` and start a session for its user.

    Raises: AuthenticationError.
    """
    actor = authenticate(ctx(), token.strip())
    lang = session.get("lang")
    session.clear()  # a fresh session (and CSRF token) at every sign-in: no fixation
    session.permanent = True
    session.update(uid=actor.id, th=hash_token(token.strip()), at=int(time()))
    if lang:
        session["lang"] = lang
    return actor


def sign_out() -> None:
    """Forget the session (the language choice stays)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def web_actor() -> Actor | None:
    """The signed-in actor of this request, or None (also once the token stops working)."""
    if "web_actor" in g:
        return g.web_actor  # type: ignore[no-any-return]
    actor = None
    started = int(session.get("at", 0))
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if session.get("th") and time() - started < lifetime:
        try:
            actor = actor_for_token_hash(ctx(), str(session["th"]))
        except AuthenticationError:
            actor = None
        if actor is not None and actor.id != session.get("uid"):
            actor = None
    g.web_actor = actor
    return actor


def require_actor() -> Actor:
    """The signed-in actor.

    Raises: AuthenticationError (the pages answer it with the sign-in page).
    """
    actor = web_actor()
    if actor is None:
        raise AuthenticationError("sign in first")
    return actor


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Refuse (400) a form post without this session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="csrf")
