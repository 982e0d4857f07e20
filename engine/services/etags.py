"""Entity tags of the resources clients update: applications, tasks, calendars, models.

A tag is a hash of the version counters the engine already keeps (an application's
`row_version`, which every change of it bumps; a task's state, claim and due time with its
application's version; a region's calendar revision; a model's versions and their statuses),
so computing it costs one indexed read and never renders the resource.
"""

from __future__ import annotations

import hashlib
import uuid
from enum import StrEnum

from engine.context import EngineContext
from engine.domain.actors import Actor


class Kind(StrEnum):
    """The resources that carry an ETag."""

    APPLICATION = "application"
    TASK = "task"
    CALENDAR = "calendar"
    MODEL = "model"


def current_etag(ctx: EngineContext, actor: Actor | None, kind: Kind, *ids: str) -> str | None:
    """The quoted ETag of a resource now; None when it does not exist for `actor`
    (another region's resource answers like a missing one: its view says 404)."""
    with ctx.primary_reader() as uow:
        q = uow.repos.etags
        found = {
            Kind.APPLICATION: lambda: q.application(uuid.UUID(ids[0])),
            Kind.TASK: lambda: q.task(uuid.UUID(ids[0])),
            Kind.CALENDAR: lambda: q.calendar(ids[0]),
            Kind.MODEL: lambda: q.model(ids[0], ids[1]),
        }[kind]()
    if found is None or (actor is not None and not actor.sees_region(found[0])):
        return None
    digest = hashlib.sha256(repr((kind.value, ids, found[1])).encode()).hexdigest()[:32]
    return f'"{digest}"'
