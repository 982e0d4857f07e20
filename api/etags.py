"""`ETag` on the resources clients change, and `If-Match` on their updates (412 when stale).

GETs of an application, a task, a region's calendar and a process model (and its versions)
carry an `ETag`; `If-None-Match` with it answers `304`. An update of the same resource with
`If-Match` answers `412` problem+json when the resource changed since (If-Match stays
optional: no `428`). The tag comes from the engine's version counters (`engine/services/
etags.py`); it is read before the view runs, so a change racing the request can only make
a tag look older, never newer. The update itself still locks and version-checks its rows,
so a change landing between the check and the update answers `409` as before.
"""

from __future__ import annotations

from types import ModuleType

from flask import Flask, Request, Response, g, request

from api import application_actions, applications, calendars, process_models, tasks, versions
from api.auth import current_actor
from api.errors import problem
from api.wiring import ctx
from engine.domain.actors import Actor
from engine.domain.errors import AuthenticationError
from engine.services.etags import Kind, current_etag

# endpoint -> (kind, the view arguments naming the resource)
_APPLICATION = (Kind.APPLICATION, ("application_id",))
_TASK = (Kind.TASK, ("task_id",))
_CALENDAR = (Kind.CALENDAR, ("region",))
_MODEL = (Kind.MODEL, ("region", "key"))


def _name(module: ModuleType, view: type) -> str:
    return f"{module.blp.name}.{view.__name__}"


READS = {
    _name(applications, applications.Application): _APPLICATION,
    _name(tasks, tasks.Task): _TASK,
    _name(calendars, calendars.Calendar): _CALENDAR,
    _name(process_models, process_models.ProcessModelVersions): _MODEL,
    _name(process_models, process_models.ProcessModelVersion): _MODEL,
}
UPDATES = {
    _name(application_actions, application_actions.Cancel): _APPLICATION,
    _name(application_actions, application_actions.Retry): _APPLICATION,
    _name(application_actions, application_actions.Payments): _APPLICATION,
    _name(tasks, tasks.Claim): _TASK,
    _name(tasks, tasks.Unclaim): _TASK,
    _name(tasks, tasks.Complete): _TASK,
    _name(tasks, tasks.Assign): _TASK,
    _name(calendars, calendars.Calendar): _CALENDAR,
    _name(versions, versions.PublishVersion): _MODEL,
    _name(versions, versions.RetireVersion): _MODEL,
}


def _actor() -> Actor | None:
    try:
        return current_actor()
    except AuthenticationError:
        return None


def _tag_now(target: tuple[Kind, tuple[str, ...]]) -> str | None:
    actor = _actor()
    if actor is None:
        return None  # the view answers 401
    kind, names = target
    ids = [str((request.view_args or {}).get(n)) for n in names]
    return current_etag(ctx(), actor, kind, *ids)


def _before() -> Response | None:
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    if req.method == "GET":
        if req.endpoint in READS:
            g.etag = _tag_now(READS[req.endpoint])
        return None
    wanted = req.environ.get("HTTP_IF_MATCH")  # as `headers.get` reads it, without its KeyError
    if wanted is None or req.endpoint not in UPDATES:
        return None
    tag = _tag_now(UPDATES[req.endpoint])
    if tag is None or _matches(wanted, tag):
        return None  # missing or invisible: the view says 404
    return problem(
        412,
        "precondition-failed",
        ("Data sudah berubah", "Precondition failed"),
        f"the resource changed since it was read (If-Match {wanted}, now {tag}); "
        "read it again and retry",
        [{"field": "If-Match", "message": "stale entity tag"}],
        {"ETag": tag},
    )


def _matches(header: str, tag: str) -> bool:
    given = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in given or tag in given


def _after(response: Response) -> Response:
    tag = g.pop("etag", None)
    if tag is None or response.status_code != 200:
        return response
    response.headers["ETag"] = tag
    if _matches(request.headers.get("If-None-Match", ""), tag):
        response.status_code = 304
        response.set_data(b"")
    return response


def init_etags(app: Flask) -> None:
    """Install the hooks (after request validation)."""
    app.before_request(_before)
    app.after_request(_after)
