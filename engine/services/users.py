"""Users, their bearer tokens and the roles they may hold: create, list, issue, revoke, disable.

A token is random (`pf_` + 256 bits) and stored as its SHA-256; it expires (the default
lifetime comes from the configuration) and an admin can revoke it; a disabled user's tokens
all stop working. Roles are known ones only: the built-in roles, the lane roles of the
region's models and the roles the region declares for its powers. Every change is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, BUILT_IN_ROLES, Actor, powers_of, region_powers
from engine.domain.errors import AuthenticationError, InvalidInputError, NotFoundError
from engine.domain.formats import NON_BLANK, ROLE
from engine.domain.problems import Problem
from engine.domain.read_models import IssuedTokenView, TokenView, UserView
from engine.domain.views import UserCreated
from engine.persistence.tables import TokenRecord, UserRecord
from engine.services.access import require_roles, visible_region
from engine.services.audit import record_event
from engine.unit_of_work import UnitOfWork

TOKEN_PREFIX = "pf_"  # noqa: S105 - a prefix, not a secret
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are random, so no salt or stretching is needed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def known_roles(uow: UnitOfWork, region_code: str | None) -> frozenset[str]:
    """The roles a user of `region_code` may hold (None: an admin without a region)."""
    if region_code is None:
        return frozenset({ADMIN})
    region = visible_region(uow, None, region_code)
    lanes = set().union(*uow.repos.models.step_roles(region_code).values())
    powers = set().union(*region_powers(region.powers).values())
    return BUILT_IN_ROLES | lanes | powers


def add_user(
    ctx: EngineContext,
    actor: Actor,
    name: str,
    roles: list[str],
    region_code: str | None,
    lifetime: timedelta | None = DEFAULT_TOKEN_LIFETIME,
) -> UserCreated:
    """Create a user with a first token; only the token's hash is stored.

    Raises: PermissionDeniedError, InvalidInputError (name, roles, region), NotFoundError.
    """
    require_roles(actor, ADMIN, action="adding a user")
    roles = sorted({r.strip().lower() for r in roles if isinstance(r, str)})
    _check_user(name, roles, region_code)
    now = ctx.clock()
    with ctx.uow() as uow:
        _check_known(uow, roles, region_code)
        user = UserRecord(
            name=name.strip(" \t\r\n"), region_code=region_code, roles=roles, active=True,
            created_at=now,
        )
        uow.repos.users.add(user)
        uow.flush()
        token, record = _new_token(uow, user.id, now, lifetime)
        _audit(uow, actor, "user.created", user, now, {"name": user.name, "roles": roles})
        uow.commit()
        return UserCreated(user.id, user.name, region_code, roles, token, record.expires_at)


def _check_user(name: Any, roles: list[str], region_code: str | None) -> None:
    problems = [Problem(f"invalid role {r!r}: {ROLE.hint}", field="role") for r in roles
                if not ROLE.matches(r)]
    if not roles:
        problems.append(Problem("give at least one role", field="role"))
    if not NON_BLANK.matches(name):
        problems.append(Problem("a user needs a name", field="name"))
    if region_code is None and ADMIN not in roles:
        problems.append(Problem("give --region for a non-admin user", field="region"))
    if problems:
        raise InvalidInputError("the user is not valid", problems)


def _check_known(uow: UnitOfWork, roles: list[str], region_code: str | None) -> None:
    known = known_roles(uow, region_code)
    unknown = [r for r in roles if r not in known]
    if unknown:
        listed = ", ".join(sorted(known))
        raise InvalidInputError(
            f"unknown role(s) {', '.join(unknown)}; the roles of this region are: {listed}",
            [Problem(f"unknown role {r!r}; known: {listed}", field="role") for r in unknown],
        )


def _new_token(
    uow: UnitOfWork, user_id: int, now: datetime, lifetime: timedelta | None
) -> tuple[str, TokenRecord]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(
        user_id=user_id, token_hash=hash_token(token), created_at=now,
        expires_at=now + lifetime if lifetime is not None else None,
    )
    uow.repos.users.add_token(record)
    uow.flush()
    return token, record


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    user: UserRecord,
    now: datetime,
    data: dict[str, Any],
) -> None:
    record_event(uow, actor=actor, action=action, subject=f"user:{user.id}", at=now,
                 region_code=user.region_code, data=data)


def authenticate(ctx: EngineContext, token: str | None) -> Actor:
    """The actor holding `token`, with the powers its roles hold in its region.

    Raises: AuthenticationError (no token, unknown, expired or revoked, user disabled).
    """
    if not token:
        raise AuthenticationError("send 'Authorization: Bearer <token>'")
    return actor_for_token_hash(ctx, hash_token(token))


def actor_for_token_hash(ctx: EngineContext, token_hash: str) -> Actor:
    """The actor whose token has this SHA-256 (a web session keeps the hash, not the token),
    checked at every request: an expired or revoked token, or a disabled user, ends it.

    Raises: AuthenticationError.
    """
    now = ctx.clock()
    cached = ctx.tokens.get(token_hash)  # (actor, token expiry), kept a few seconds
    if cached is not None and (cached[1] is None or cached[1] > now):
        actor: Actor = cached[0]
        return actor
    with ctx.reader() as uow:
        found = uow.repos.users.by_token_hash(token_hash)
        if found is None or not _valid(*found, now):
            raise AuthenticationError("the token is not valid (unknown, expired or revoked)")
        actor = actor_for(uow, found[0])
        ctx.tokens.put(token_hash, (actor, found[1].expires_at))
    return actor


def _valid(user: UserRecord, token: TokenRecord, now: datetime) -> bool:
    expired = token.expires_at is not None and token.expires_at <= now
    return user.active and token.revoked_at is None and not expired


def actor_for(uow: UnitOfWork, user: UserRecord) -> Actor:
    """The actor of `user`, with the powers its roles hold in its region."""
    roles = frozenset(user.roles)
    region = uow.repos.regions.get(user.region_code) if user.region_code else None
    powers = powers_of(roles, region.powers if region is not None else None)
    return Actor(user.id, user.name, user.region_code, roles, powers)


def list_users(
    ctx: EngineContext, actor: Actor, region_code: str | None = None
) -> list[UserView]:
    """Users with their tokens (never the tokens themselves), for admins.

    Raises: PermissionDeniedError.
    """
    require_roles(actor, ADMIN, action="listing users")
    with ctx.reader() as uow:
        users = uow.repos.users.listing(region_code)
        tokens: dict[int, list[TokenView]] = {}
        for token in uow.repos.users.tokens_of(u.id for u in users):
            tokens.setdefault(token.user_id, []).append(token_view(token, ctx.clock()))
        return [user_view(u, tokens.get(u.id, [])) for u in users]


def user_view(user: UserRecord, tokens: Iterable[TokenView]) -> UserView:
    """A user as the API and the CLI show it."""
    return {"id": user.id, "name": user.name, "region": user.region_code, "roles": user.roles,
            "active": user.active, "created_at": user.created_at, "tokens": list(tokens)}


def token_view(token: TokenRecord, now: datetime) -> TokenView:
    """A token's facts (not the token)."""
    state = "revoked" if token.revoked_at else (
        "expired" if token.expires_at is not None and token.expires_at <= now else "active")
    return {"id": token.id, "user_id": token.user_id, "created_at": token.created_at,
            "expires_at": token.expires_at, "revoked_at": token.revoked_at, "state": state}


def issue_token(
    ctx: EngineContext, actor: Actor, user_id: int, lifetime: timedelta | None
) -> IssuedTokenView:
    """A new token for an active user (admins); returned once, with its facts.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError (user disabled).
    """
    require_roles(actor, ADMIN, action="issuing a token")
    now = ctx.clock()
    with ctx.uow() as uow:
        user = _user(uow, user_id)
        if not user.active:
            raise InvalidInputError(f"user {user_id} is disabled",
                                    [Problem("disabled", field="user_id")])
        token, record = _new_token(uow, user.id, now, lifetime)
        _audit(uow, actor, "token.issued", user, now,
               {"token_id": record.id, "expires_at": record.expires_at})
        uow.commit()
        ctx.tokens.clear()  # the change is seen by the next request
        return {**token_view(record, now), "token": token}


def revoke_token(ctx: EngineContext, actor: Actor, user_id: int, token_id: int) -> TokenView:
    """Revoke one token of a user (admins); revoking it again changes nothing.

    Raises: PermissionDeniedError, NotFoundError.
    """
    require_roles(actor, ADMIN, action="revoking a token")
    now = ctx.clock()
    with ctx.uow() as uow:
        user = _user(uow, user_id)
        token = uow.repos.users.token(token_id)
        if token is None or token.user_id != user.id:
            raise NotFoundError(f"token {token_id} of user {user_id} not found")
        if token.revoked_at is None:
            token.revoked_at, token.revoked_by = now, actor.id or None
            _audit(uow, actor, "token.revoked", user, now, {"token_id": token.id})
        uow.commit()
        ctx.tokens.clear()  # the change is seen by the next request
        return token_view(token, now)


def disable_user(ctx: EngineContext, actor: Actor, user_id: int) -> UserView:
    """Disable a user (admins): every token of theirs stops working at once.

    Raises: PermissionDeniedError, NotFoundError.
    """
    require_roles(actor, ADMIN, action="disabling a user")
    now = ctx.clock()
    with ctx.uow() as uow:
        user = _user(uow, user_id)
        if user.active:
            user.active = False
            _audit(uow, actor, "user.disabled", user, now,
                   {"before": {"active": True}, "after": {"active": False}})
        uow.commit()
        ctx.tokens.clear()  # the change is seen by the next request
        return user_view(user, [])


def _user(uow: UnitOfWork, user_id: int) -> UserRecord:
    user = uow.repos.users.get(user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user
