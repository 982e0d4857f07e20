"""Regions and users: who exists, and who may do what where."""

from __future__ import annotations

import hashlib
import secrets

from engine.domain.actors import ADMIN, Actor
from engine.domain.errors import AlreadyExistsError, AuthenticationError, InvalidInputError
from engine.domain.formats import NON_BLANK, REGION_CODE, ROLE
from engine.domain.problems import Problem
from engine.domain.views import RegionView, UserCreated
from engine.persistence.tables import RegionRecord, UserRecord
from engine.services.access import require_roles, visible_region
from engine.services.audit import record_event
from engine.services.context import EngineContext
from engine.services.presenters import region_view

INDONESIAN_TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
TOKEN_PREFIX = "pf_"  # noqa: S105 - a prefix, not a secret


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are random, so no salt or stretching is needed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_region(
    ctx: EngineContext, actor: Actor, code: str, name: str, timezone: str
) -> RegionView:
    """Create a region (admin only).

    Raises: PermissionDeniedError, InvalidInputError, AlreadyExistsError.
    """
    require_roles(actor, ADMIN, action="creating a region")
    _check_region(code, name, timezone)
    with ctx.uow() as uow:
        if uow.repos.regions.get(code) is not None:
            raise AlreadyExistsError(f"region {code} already exists")
        region = RegionRecord(
            code=code, name=name.strip(" \t\r\n"), timezone=timezone, created_at=ctx.clock()
        )
        uow.repos.regions.add(region)
        record_event(
            uow,
            actor=actor,
            action="region.created",
            subject=f"region:{code}",
            at=ctx.clock(),
            region_code=code,
            data={"name": name, "timezone": timezone},
        )
        uow.commit()
        return region_view(region)


def _check_region(code: str, name: str, timezone: str) -> None:
    problems = []
    if not REGION_CODE.matches(code):
        problems.append(
            Problem("a region code is the Kemendagri/BPS code, e.g. 3273", field="code")
        )
    if not NON_BLANK.matches(name):
        problems.append(Problem("a region needs a name", field="name"))
    if timezone not in INDONESIAN_TIMEZONES:
        problems.append(
            Problem(f"time zone must be one of {', '.join(INDONESIAN_TIMEZONES)}", field="timezone")
        )
    if problems:
        raise InvalidInputError("the region is not valid", problems)


def list_regions(ctx: EngineContext) -> list[RegionView]:
    """Every region (public facts: code, name, time zone)."""
    with ctx.reader() as uow:
        return [region_view(r) for r in uow.repos.regions.list()]


def add_user(
    ctx: EngineContext, name: str, roles: list[str], region_code: str | None, actor: Actor
) -> UserCreated:
    """Create a user and return its bearer token; only its hash is stored.

    Raises: InvalidInputError, NotFoundError.
    """
    roles = sorted({r.strip().lower() for r in roles})
    bad = [r for r in roles if not ROLE.matches(r)]
    if not roles or bad or not NON_BLANK.matches(name):
        raise InvalidInputError(
            "a user needs a name and at least one role (lower-case letters, digits, - and _)",
            [Problem(f"invalid role {r!r}", field="role") for r in bad],
        )
    if region_code is None and ADMIN not in roles:
        raise InvalidInputError(
            "only admins may be without a region",
            [Problem("give --region for a non-admin user", field="region")],
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        if region_code is not None:
            visible_region(uow, None, region_code)
        user = UserRecord(
            name=name.strip(" \t\r\n"),
            region_code=region_code,
            roles=roles,
            token_hash=hash_token(token),
            active=True,
            created_at=ctx.clock(),
        )
        uow.repos.users.add(user)
        uow.flush()
        record_event(
            uow,
            actor=actor,
            action="user.created",
            subject=f"user:{user.id}",
            at=ctx.clock(),
            region_code=region_code,
            data={"name": user.name, "roles": roles},
        )
        uow.commit()
        return UserCreated(user.id, user.name, region_code, roles, token)


def authenticate(ctx: EngineContext, token: str | None) -> Actor:
    """The actor holding `token`.

    Raises: AuthenticationError.
    """
    if not token:
        raise AuthenticationError("send 'Authorization: Bearer <token>'")
    return actor_for_token_hash(ctx, hash_token(token))


def actor_for_token_hash(ctx: EngineContext, token_hash: str) -> Actor:
    """The actor whose token has this SHA-256 (a web session keeps the hash, not the token).

    Raises: AuthenticationError.
    """
    with ctx.reader() as uow:
        user = uow.repos.users.by_token_hash(token_hash)
        if user is None or not user.active:
            raise AuthenticationError("the token is not valid")
        return Actor(user.id, user.name, user.region_code, frozenset(user.roles))
