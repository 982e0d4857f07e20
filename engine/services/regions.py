"""Regions and users: who exists, and who may do what where."""

from __future__ import annotations

from engine.context import EngineContext
from engine.domain.actors import ADMIN, DEFAULT_POWERS, Actor, region_powers
from engine.domain.errors import AlreadyExistsError, InvalidInputError
from engine.domain.formats import NON_BLANK, REGION_CODE, ROLE
from engine.domain.problems import Problem
from engine.domain.views import RegionView
from engine.persistence.tables import RegionRecord
from engine.services import users
from engine.services.access import require_roles, visible_region
from engine.services.audit import record_event
from engine.services.presenters import region_view

# WIB (Jakarta; Pontianak for West and Central Kalimantan, also UTC+7), WITA, WIT.
INDONESIAN_TIMEZONES = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")


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


def set_powers(
    ctx: EngineContext, actor: Actor, code: str, powers: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Declare which roles hold each power in a region (admins); a power left out keeps its
    default. Returns every power's roles. Audited.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError.
    """
    require_roles(actor, ADMIN, action="declaring a region's powers")
    problems = [Problem(f"unknown power; powers are {', '.join(DEFAULT_POWERS)}", field=f"/{name}")
                for name in powers if name not in DEFAULT_POWERS]
    problems += [Problem(ROLE.hint, field=f"/{name}/{i}")
                 for name, roles in powers.items() for i, role in enumerate(roles)
                 if not ROLE.matches(role)]
    if problems:
        raise InvalidInputError("the powers are not valid", problems)
    with ctx.uow() as uow:
        region = visible_region(uow, actor, code)
        before = region_powers(region.powers)
        region.powers = {name: sorted(set(roles)) for name, roles in powers.items()}
        after = region_powers(region.powers)
        record_event(uow, actor=actor, action="region.powers_declared", subject=f"region:{code}",
                     at=ctx.clock(), region_code=code,
                     data={"before": _listed(before), "after": _listed(after)})
        uow.commit()
        ctx.tokens.clear()  # cached actors carry their region's powers
        return _listed(after)


def get_powers(ctx: EngineContext, actor: Actor, code: str) -> dict[str, list[str]]:
    """Which roles hold each power in a region.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        return _listed(region_powers(visible_region(uow, actor, code).powers))


def _listed(powers: dict[str, frozenset[str]]) -> dict[str, list[str]]:
    return {name: sorted(roles) for name, roles in powers.items()}


# Kept here for callers written before users had their own module.
add_user = users.add_user
authenticate = users.authenticate
hash_token = users.hash_token
actor_for_token_hash = users.actor_for_token_hash
