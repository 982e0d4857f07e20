"""Citizens' pages (no sign-in): home, service catalogue, service standard, tracking; the
sign-in and sign-out of officers; and the API documentation at /api/docs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, request, url_for

from api.web.formats import moment
from api.web.i18n import language, texts
from api.web.pages import render
from api.web.session import sign_in as start_session
from api.web.session import sign_out as end_session
from api.wiring import ctx
from engine.domain.errors import AuthenticationError, NotFoundError
from engine.services import (
    applicant_documents,
    models,
    regions,
    standards,
    tracking,
    verification,
)

blp = Blueprint(
    "web_public",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


@blp.get("/")
def home() -> Any:
    """The start page: track an application, or pick a region's catalogue."""
    return render("home.html", regions=regions.list_regions(ctx()))


@blp.get("/favicon.ico")
def favicon() -> Any:
    """No icon (browsers ask anyway)."""
    return Response(status=204)


@blp.get("/lacak")
def track_lookup() -> Any:
    """The tracking form's target: on to the tracking page of the typed code."""
    code = "".join(request.args.get("code", "").split()).upper()
    if not code:
        return render("track_missing.html", 404, code="")
    return redirect(url_for("tracking.Track", code=code))


def tracking_page(code: str) -> Any:
    """The citizen's tracking page (HTML); a mistyped code gets a friendly page."""
    try:
        data = tracking.track(ctx(), code)
    except NotFoundError:
        return render("track_missing.html", 404, code=code)
    region = data["region"]["code"]
    marks = {s["element_id"]: "pf-done" for s in data["steps_done"]}
    marks.update({s["element_id"]: "pf-current" for s in data["current_steps"]})
    t = texts(language())
    zone = data["region"]["timezone"]
    overlays = [
        {"id": s["element_id"], "text": f"{t['due']}: {moment(s['due_at'], zone)}", "kind": "due"}
        for s in data["current_steps"]
        if s["due_at"]
    ]
    src = url_for(
        "web_public.model_xml", region=region, key=data["process_key"], version=data["version"]
    )
    receipt = applicant_documents.receipt_by_code(ctx(), code)  # tanda terima (#14 item 4)
    return render(
        "track.html",
        d=data,
        docs=receipt,
        zone=zone,
        marks=marks,
        overlays=overlays,
        diagram_src=src,
        documents=verification.documents_by_tracking_code(ctx(), code),
    )


@blp.get("/layanan/<region>")
def catalogue(region: str) -> Any:
    """A region's service catalogue: every current procedure with its totals."""
    services = standards.region_services(ctx(), region)
    info = next(r for r in regions.list_regions(ctx()) if r.code == region)
    return render("catalogue.html", region=info, services=services)


@blp.get("/layanan/<region>/<key>")
def service(region: str, key: str) -> Any:
    """One service's published standard: diagram, steps with SLA and fee, totals, the rest."""
    standard = standards.service_standard(ctx(), region, key)
    info = next(r for r in regions.list_regions(ctx()) if r.code == region)
    return render("service.html", region=info, s=standard)


@blp.get("/layanan/<region>/<key>/<int:version>/model.bpmn")
def model_xml(region: str, key: str, version: int) -> Any:
    """A model version's BPMN, public like its service standard (the diagram pages draw it)."""
    found = models.get_version(ctx(), None, region, key, version)
    return Response(found.bpmn or "", mimetype="application/xml")


@blp.route("/masuk", methods=["GET", "POST"])
def sign_in() -> Any:
    """Sign in with an access token; on to the page asked for (same site only)."""
    target = request.values.get("next") or url_for("web_console.inbox")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("web_console.inbox")
    if request.method == "GET":
        return render("sign_in.html", next=target, failed=False)
    try:
        start_session(request.form.get("token", ""))
    except AuthenticationError:
        return render("sign_in.html", 401, next=target, failed=True)
    return redirect(target)


@blp.post("/keluar")
def sign_out() -> Any:
    """End the session."""
    end_session()
    return redirect(url_for("web_public.home"))


@blp.get("/api/docs")
def api_docs() -> Any:
    """Swagger UI over the OpenAPI document, from the package's own copy."""
    return render("api_docs.html", spec_url="/api/v1/openapi.json")
