"""The satisfaction survey (SKM, Permenpan-RB 14/2017): offered once per completed
application on its tracking page; the index (IKM) per service and region.

The survey asks no name or contact and no one can read one application's answers back
through the API (the tracking page says only that it was given; reports show indexes). It
is not anonymous in the database: the row keeps its application's id, which is how the
survey is offered once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain import skm
from engine.domain.actors import ADMIN, ANALYST, SUPERVISOR, SYSTEM, Actor
from engine.domain.errors import AlreadyExistsError, ConflictError, InvalidInputError
from engine.domain.problems import Problem
from engine.domain.statuses import ApplicationStatus
from engine.persistence.tables import SurveyRecord
from engine.services.access import require_roles
from engine.services.audit import record_event
from engine.services.by_code import application_by_code


def submit_survey(ctx: EngineContext, code: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Public: the survey of the completed application with tracking code `code`, once.

    Raises: NotFoundError, InvalidInputError, ConflictError (not completed yet),
    AlreadyExistsError (given already).
    """
    problems = skm.check_answers(answers if isinstance(answers, Mapping) else {})
    if problems or not isinstance(answers, Mapping):
        raise InvalidInputError(
            "the survey needs a score from 1 to 4 for each of the nine elements",
            [Problem(p.split(":", 1)[1].strip(), field=f"answers.{p.split(':', 1)[0]}")
             for p in problems],
        )
    now = ctx.clock()
    with ctx.uow() as uow:
        app = application_by_code(uow, code)
        if app.status != ApplicationStatus.COMPLETED:
            raise ConflictError("the survey opens when the application is completed")
        if uow.repos.citizen.survey_of(app.id) is not None:
            raise AlreadyExistsError("this application's survey was given already")
        scores = {k: int(answers[k]) for k in skm.ELEMENT_KEYS}
        uow.repos.citizen.add(
            SurveyRecord(
                application_id=app.id,
                region_code=app.region_code,
                process_key=app.process_key,
                answers=scores,
                given_at=now,
            )
        )
        record_event(
            uow,
            actor=SYSTEM,
            action="survey.given",
            subject=f"application:{app.id}",
            at=now,
            region_code=app.region_code,
            application_id=app.id,
        )
        uow.commit()
        return {"given_at": now}


def service_indexes(ctx: EngineContext, region: str) -> dict[str, dict[str, object]]:
    """Public: the IKM of every service of `region`, by process key (catalogue)."""
    with ctx.reader() as uow:
        rows = uow.repos.citizen.survey_answers(region, None)
    by_key: dict[str, list[Mapping[str, int]]] = defaultdict(list)
    for _, key, answers in rows:
        by_key[key].append(answers)
    return {key: skm.ikm(answers).as_dict() for key, answers in by_key.items()}


def skm_report(
    ctx: EngineContext,
    actor: Actor,
    region: str | None = None,
    process_key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The IKM per region and per service of the region (reports).

    Raises: PermissionDeniedError, InvalidInputError (`from` not before `to`).
    """
    require_roles(actor, ADMIN, SUPERVISOR, ANALYST, action="reading survey reports")
    if since is not None and until is not None and since >= until:
        raise InvalidInputError(
            "give a period with from before to", [Problem("from is not before to", field="from")]
        )
    region = region if actor.is_admin else actor.region_code
    with ctx.reader() as uow:
        rows = uow.repos.citizen.survey_answers(region, process_key, since, until)
    regions: dict[str, list[Mapping[str, int]]] = defaultdict(list)
    services: dict[tuple[str, str], list[Mapping[str, int]]] = defaultdict(list)
    for reg, key, answers in rows:
        regions[reg].append(answers)
        services[(reg, key)].append(answers)
    return {
        "elements": [{"key": k, "id": i, "en": e} for k, i, e in skm.ELEMENTS],
        "regions": [{"region": r, **skm.ikm(a).as_dict()} for r, a in sorted(regions.items())],
        "services": [
            {"region": r, "process_key": k, **skm.ikm(a).as_dict()}
            for (r, k), a in sorted(services.items())
        ],
    }
