"""Complaints (pengaduan, Perpres 76/2013): filed by tracking code, answered by supervisors.

A citizen files one with the public tracking code (text, an optional contact) and gets a
complaint number. It lands in the supervisors' inbox of the application's region with a due
time under the region's complaint SLA (working time, the region's calendar). The answer is
published on the tracking page; the complaint's text and contact never are.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, SUPERVISOR, SYSTEM, Actor
from engine.domain.durations import parse_sla
from engine.domain.errors import ConflictError, InvalidInputError, NotFoundError
from engine.domain.problems import Problem
from engine.persistence.tables import ApplicationRecord, ComplaintRecord
from engine.services import notifications
from engine.services.access import require_roles
from engine.services.audit import record_event
from engine.services.by_code import application_by_code
from engine.services.calendars import region_calendar
from engine.unit_of_work import UnitOfWork

DEFAULT_COMPLAINT_SLA = "P5D"  # the "normative" tier of the tiered complaint SLAs
MAX_TEXT, MAX_CONTACT, MAX_ANSWER = 4000, 200, 4000
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as tracking codes: no look-alikes
OPEN, ANSWERED = "open", "answered"


def file_complaint(
    ctx: EngineContext, code: str, text: str, contact: str | None = None
) -> dict[str, Any]:
    """Public: file a complaint about the application with tracking code `code`.

    Raises: NotFoundError, InvalidInputError.
    """
    text, contact = (text or "").strip(), (contact or "").strip() or None
    _check_text(text, "text", MAX_TEXT)
    if contact is not None and len(contact) > MAX_CONTACT:
        problem = Problem(f"at most {MAX_CONTACT} characters", field="contact")
        raise InvalidInputError("the contact is too long", [problem])
    now = ctx.clock()
    with ctx.uow() as uow:
        app = application_by_code(uow, code)
        region = uow.repos.regions.get(app.region_code)
        sla = (region.complaint_sla if region else None) or DEFAULT_COMPLAINT_SLA
        complaint = ComplaintRecord(
            number=new_complaint_number(),
            region_code=app.region_code,
            application_id=app.id,
            process_key=app.process_key,
            text=text,
            contact=contact,
            status=OPEN,
            sla=sla,
            filed_at=now,
            due_at=region_calendar(ctx, uow, app.region_code).due(now, sla),
        )
        uow.repos.citizen.add(complaint)
        _audit(uow, app, "complaint.filed", complaint, now)
        uow.commit()
        return public_view(complaint, now)


def answer_complaint(ctx: EngineContext, actor: Actor, number: str, answer: str) -> dict[str, Any]:
    """A supervisor answers a complaint of their region; the answer is published.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError, ConflictError.
    """
    require_roles(actor, ADMIN, SUPERVISOR, action="answering complaints")
    answer = (answer or "").strip()
    _check_text(answer, "answer", MAX_ANSWER)
    now = ctx.clock()
    with ctx.uow() as uow:
        complaint = uow.repos.citizen.complaint(number.strip().upper(), for_update=True)
        if complaint is None or not actor.sees_region(complaint.region_code):
            raise NotFoundError(f"complaint {number} not found")
        if complaint.status != OPEN:
            raise ConflictError(f"complaint {number} was answered already")
        complaint.status, complaint.answer = ANSWERED, answer
        complaint.answered_at, complaint.answered_by = now, actor.id or None
        app = uow.repos.applications.get(complaint.application_id)
        assert app is not None
        _audit(uow, app, "complaint.answered", complaint, now, actor)
        notifications.complaint_answered(uow, app, complaint, now)
        uow.commit()
        return staff_view(complaint, now)


def complaint_inbox(
    ctx: EngineContext, actor: Actor, status: str | None = OPEN, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """The supervisors' inbox: complaints of the actor's region, soonest due first.

    Raises: PermissionDeniedError.
    """
    require_roles(actor, ADMIN, SUPERVISOR, action="reading complaints")
    now = ctx.clock()
    with ctx.reader() as uow:
        region = None if actor.is_admin else actor.region_code
        rows, total = uow.repos.citizen.complaint_inbox(region, status, limit, offset)
        return {"items": [staff_view(c, now) for c in rows], "total": total}


def set_complaint_sla(ctx: EngineContext, actor: Actor, region: str, sla: str) -> str:
    """An admin sets a region's complaint SLA (a working-time duration, e.g. P5D).

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError.
    """
    require_roles(actor, ADMIN, action="setting the complaint SLA")
    try:
        value = parse_sla(sla).iso()
    except ValueError as exc:
        raise InvalidInputError(str(exc), [Problem(str(exc), field="sla")]) from exc
    with ctx.uow() as uow:
        record = uow.repos.regions.get(region)
        if record is None:
            raise NotFoundError(f"region {region} not found")
        record.complaint_sla = value
        record_event(
            uow,
            actor=actor,
            action="region.complaint_sla",
            subject=f"region:{region}",
            at=ctx.clock(),
            region_code=region,
            data={"sla": value},
        )
        uow.commit()
        return value


def new_complaint_number() -> str:
    """ADU-XXXX-XXXX: 40 random bits, readable aloud."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"ADU-{chars[:4]}-{chars[4:]}"


def public_view(complaint: ComplaintRecord, now: datetime) -> dict[str, Any]:
    """What the tracking page shows: never the complaint's text or contact."""
    return {
        "number": complaint.number,
        "status": complaint.status,
        "filed_at": complaint.filed_at,
        "due_at": complaint.due_at,
        "overdue": _overdue(complaint, now),
        "answer": complaint.answer,
        "answered_at": complaint.answered_at,
    }


def staff_view(complaint: ComplaintRecord, now: datetime) -> dict[str, Any]:
    """What supervisors see: the text and contact too."""
    return {
        **public_view(complaint, now),
        "region": complaint.region_code,
        "application_id": complaint.application_id,
        "process_key": complaint.process_key,
        "text": complaint.text,
        "contact": complaint.contact,
        "sla": complaint.sla,
    }


def _overdue(complaint: ComplaintRecord, now: datetime) -> bool:
    return complaint.due_at < (complaint.answered_at or now)


def _check_text(text: str, field: str, limit: int) -> None:
    if not text or len(text) > limit:
        raise InvalidInputError(
            f"the {field} must have 1 to {limit} characters",
            [Problem(f"give 1 to {limit} characters", field=field)],
        )


def _audit(
    uow: UnitOfWork,
    app: ApplicationRecord,
    action: str,
    complaint: ComplaintRecord,
    now: datetime,
    actor: Actor | None = None,
) -> None:
    record_event(
        uow,
        actor=actor or SYSTEM,
        action=action,
        subject=f"complaint:{complaint.number}",
        at=now,
        region_code=app.region_code,
        application_id=app.id,
        data={"number": complaint.number, "due_at": complaint.due_at.isoformat()},
    )
