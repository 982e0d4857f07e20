"""Analysts' studio: upload a package and see every problem listed and pinned on the diagram,
versions with publish/retire, the diff of two versions side by side, and replication."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from api.uploads import package_from_request
from api.web.i18n import language, texts
from api.web.pages import flash_refusal, render
from api.web.session import require_actor
from api.wiring import ctx
from engine.domain import errors as e
from engine.domain.actors import Actor
from engine.domain.definitions import ModelPackage
from engine.domain.diff import parse_ref, render_text
from engine.domain.read_models import ProcedureStep, VersionDiff
from engine.domain.statuses import VersionStatus
from engine.services import models, replication, standards, versions

blp = Blueprint("web_studio", __name__, url_prefix="/studio", template_folder="templates")

# Marker classes of the diff diagrams, by side and kind of change.
DIFF_MARKS = {
    "a": {"removed": "pf-removed", "changed": "pf-changed"},
    "b": {"added": "pf-added", "changed": "pf-changed"},
}


def _region(actor: Actor) -> str:
    return actor.region_code or request.values.get("region", "")


@blp.get("/")
def studio() -> Any:
    """The region's models and the upload form."""
    actor = require_actor()
    region = _region(actor)
    return render("studio.html", region=region, models=models.list_models(ctx(), actor, region))


@blp.post("/unggah")
def upload() -> Any:
    """Upload a package: a new version, or the page with every problem on the diagram."""
    actor = require_actor()
    region = _region(actor)
    package: ModelPackage | None = None
    try:
        package = package_from_request()
        stored = models.upload_model(ctx(), actor, region, package)
    except e.InvalidInputError as exc:
        return _problems_page(actor, region, exc, package)
    said = "uploaded_ok" if stored.status == VersionStatus.PUBLISHED else "uploaded_draft"
    message = texts(language())[said].format(version=stored.version, key=stored.key)
    flash(message, "status")
    return redirect(url_for("web_studio.model", key=stored.key))


def _problems_page(
    actor: Actor, region: str, exc: e.InvalidInputError, package: ModelPackage | None
) -> Any:
    problems = [p.as_dict() for p in exc.problems] or [{"message": exc.detail}]
    for number, problem in enumerate(problems, 1):
        problem["number"] = number
    overlays = [
        {"id": p["element_id"], "text": str(p["number"]), "kind": "problem", "title": p["message"]}
        for p in problems
        if p.get("element_id")
    ]
    xml = package.bpmn.decode("utf-8", errors="replace") if package else None
    return render(
        "studio.html",
        422,
        region=region,
        models=models.list_models(ctx(), actor, region),
        problems=problems,
        overlays=overlays,
        marks={o["id"]: "pf-problem" for o in overlays},
        xml=xml,
    )


@blp.get("/model/<key>")
def model(key: str) -> Any:
    """A model's versions (publish, retire, compare) and the newest version's diagram."""
    actor = require_actor()
    region = _region(actor)
    found = models.list_versions(ctx(), actor, region, key)
    return render("versions.html", region=region, key=key, versions=found)


@blp.post("/model/<key>/<int:version>/<verb>")
def set_status(key: str, version: int, verb: str) -> Any:
    """Publish or retire a version."""
    actor = require_actor()
    change = versions.publish_version if verb == "publish" else versions.retire_version
    try:
        change(ctx(), actor, _region(actor), key, version)
    except e.EngineError as exc:
        flash_refusal(exc)
    return redirect(url_for("web_studio.model", key=key))


@blp.get("/beda")
def diff() -> Any:
    """Two versions (any regions) side by side, changed elements coloured, and the text."""
    actor = require_actor()
    a, b = request.args.get("a", ""), request.args.get("b", "")
    if not (a and b):
        return render("diff.html", a=a, b=b, d=None)
    found = versions.diff_versions(ctx(), actor, a, b)
    sides = {name: _side(found, name) for name in ("a", "b")}
    return render("diff.html", a=a, b=b, d=found, text=render_text(found), sides=sides)


def _side(found: VersionDiff, name: str) -> dict[str, Any]:
    """The diagram source and markers of one side of a diff."""
    marks: dict[str, str] = {}
    steps, flows = found["steps"], found["flows"]
    for kind, cls in DIFF_MARKS[name].items():
        items = steps[kind] + (steps["renamed"] if kind == "changed" else []) + flows[kind]
        marks.update({i.get("element_id") or i["id"]: cls for i in items})
    ref = found["a"] if name == "a" else found["b"]
    src = url_for(
        "web_public.model_xml", region=ref["region"], key=ref["key"], version=ref["version"]
    )
    return {"src": src, "marks": marks, "title": f"{ref['region']}/{ref['key']}@{ref['version']}"}


@blp.route("/replikasi", methods=["GET", "POST"])
def replicate() -> Any:
    """Copy a published version of any region here, with per-step overrides from a form."""
    actor = require_actor()
    source = request.values.get("source", "").strip()
    steps = _source_steps(source)
    if request.method == "GET" or not steps:
        return render("replicate.html", source=source, steps=steps, values=request.values)
    ref = parse_ref(source, "source")
    try:
        stored = replication.replicate_model(
            ctx(),
            actor,
            _region(actor),
            request.form.get("key") or ref["key"],
            ref,
            _overrides(steps),
        )
    except e.EngineError as exc:
        flash_refusal(exc)
        problems = [p.as_dict() for p in exc.problems]
        return render(
            "replicate.html",
            422,
            source=source,
            steps=steps,
            values=request.form,
            problems=problems,
        )
    flash(texts(language())["replicated_ok"].format(version=stored.version), "status")
    return redirect(url_for("web_studio.model", key=stored.key))


def _source_steps(source: str) -> list[ProcedureStep]:
    if not source:
        return []
    try:
        ref = parse_ref(source, "source")
        standard = standards.service_standard(ctx(), ref["region"], ref["key"], ref["version"])
    except e.EngineError as exc:
        flash_refusal(exc)
        return []
    return list(standard["procedure"])


def _overrides(steps: list[ProcedureStep]) -> dict[str, Any]:
    """The overrides the form holds: only what the analyst filled in."""
    form = request.form
    out: dict[str, Any] = {"steps": {}}
    for step in steps:
        sid = step["element_id"]
        values: dict[str, Any] = {}
        for name in ("sla", "fee", "role"):
            given = form.get(f"{name}:{sid}", "").strip()
            if given:
                values[name] = given.replace(".", "") if name == "fee" else given
        if values:
            out["steps"][sid] = values
    if form.get("process_sla", "").strip():
        out["process"] = {"sla": form["process_sla"].strip()}
    return out
