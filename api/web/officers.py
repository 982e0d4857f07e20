"""Officers' pages: the inbox, a step (form, earlier data, fee, claim/unclaim/complete), an
application (diagram, history, fees, payment at the cashier), and a new application at
the counter. Every action calls the same service as the API, with the same `Actor`."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Blueprint, flash, redirect, request, send_file, url_for

from api.web.formrender import Builder, parse
from api.web.i18n import FORMAT_HINTS, language, texts
from api.web.pages import explain, flash_refusal, render
from api.web.session import require_actor
from api.wiring import ctx
from engine.domain import errors as e
from engine.domain.console_views import TaskPageView
from engine.domain.statuses import StepStatus
from engine.services import applications, console, models, payments, tasks, verification

blp = Blueprint("web_console", __name__, url_prefix="/konsol", template_folder="templates")

CLAIM_FILTERS = ("all", "me", "free")


@blp.get("/")
def inbox() -> Any:
    """Ready steps of the officer's region and roles, soonest due first, with filters."""
    actor = require_actor()
    process = request.args.get("process") or None
    claimed = request.args.get("claimed", "all")
    overdue = request.args.get("overdue") == "1"
    page = tasks.inbox(
        ctx(),
        actor,
        assigned_to_me=claimed == "me",
        unclaimed=claimed == "free",
        overdue=overdue,
        process_key=process,
        limit=100,
    )
    return render(
        "inbox.html",
        page=page,
        processes=_processes(actor.region_code),
        chosen={"process": process or "", "claimed": claimed, "overdue": overdue},
        claim_filters=CLAIM_FILTERS,
    )


def _processes(region: str | None) -> list[Any]:
    return models.list_models(ctx(), require_actor(), region) if region else []


@blp.get("/tugas/<uuid:task_id>")
def task(task_id: uuid.UUID) -> Any:
    """One step: its form, the application's earlier data, its fee item, and actions."""
    view = console.task_page(ctx(), require_actor(), task_id)
    return _task_page(view, view.task.data or {}, {})


def _task_page(
    view: TaskPageView,
    data: dict[str, Any],
    errors: dict[str, str],
    extra_rows: dict[str, int] | None = None,
    status: int = 200,
) -> Any:
    lang = language()
    form = None
    if view.task.form_schema:
        builder = Builder(
            view.task.form_schema,
            lang=lang,
            errors=errors,
            extra_rows=extra_rows,
            hints=FORMAT_HINTS[lang],
        )
        form = builder.form(data)
        leftover = {p: m for p, m in errors.items() if p not in builder.used}
    else:
        leftover = errors
    return render(
        "task.html",
        status,
        v=view,
        form=form,
        errors=errors,
        leftover=leftover,
        zone=_zone(view.application.region),
    )


def _zone(region: str) -> str:
    found = next((r for r in _regions() if r.code == region), None)
    return found.timezone if found else "Asia/Jakarta"


def _regions() -> list[Any]:
    from engine.services.regions import list_regions

    return list_regions(ctx())


@blp.post("/tugas/<uuid:task_id>")
def act(task_id: uuid.UUID) -> Any:
    """Claim, release or complete a step (or add a row to one of its repeatable fields)."""
    actor = require_actor()
    action = request.form.get("action", "")
    if action in ("claim", "unclaim"):
        return _claim(task_id, action)
    view = console.task_page(ctx(), actor, task_id)
    schema = view.task.form_schema or {}
    data = parse(schema, request.form) if schema else {}
    if action.startswith("add:"):
        return _task_page(view, data, {}, {action[4:]: 1})
    try:
        done = tasks.complete_task(ctx(), actor, task_id, data)
    except e.FormInvalidError as exc:
        return _task_page(view, data, _messages(schema, data, exc), status=422)
    except e.ConflictError as exc:
        flash_refusal(exc)
        return _task_page(view, data, {}, status=409)
    flash(texts(language())["completed_ok"], "status")
    return redirect(_next_page(done))


def _claim(task_id: uuid.UUID, action: str) -> Any:
    t = texts(language())
    try:
        if action == "claim":
            tasks.claim_task(ctx(), require_actor(), task_id)
            flash(t["claimed_ok"], "status")
        else:
            tasks.unclaim_task(ctx(), require_actor(), task_id)
            flash(t["unclaimed_ok"], "status")
    except (e.ConflictError, e.PermissionDeniedError) as exc:
        flash_refusal(exc)
    return redirect(url_for("web_console.task", task_id=task_id))


def _messages(
    schema: dict[str, Any], data: dict[str, Any], exc: e.FormInvalidError
) -> dict[str, str]:
    """Per-field messages in the page's language (the service's are English)."""
    lang = language()
    found = {p.field or "/": p.message for p in exc.problems}
    if lang == "id":
        for error in ctx().forms.validate(schema, data, lang="id"):
            found[error.field or "/"] = error.message
    return {("" if k == "/" else k): v for k, v in found.items()}


def _next_page(done: Any) -> str:
    """After a step: the application's next step this officer may work, else the inbox."""
    actor = require_actor()
    for nxt in done.tasks:
        if nxt.state == StepStatus.READY and actor.may_work_step(nxt.role, own_application=False):
            return url_for("web_console.task", task_id=nxt.id)
    return url_for("web_console.application", application_id=done.id)


@blp.get("/permohonan/<uuid:application_id>")
def application(application_id: uuid.UUID) -> Any:
    """An application: the diagram with done and current steps, due times, history, fees."""
    actor = require_actor()
    found = applications.get_application(ctx(), actor, application_id)
    zone = _zone(found.region)
    marks = {t.element_id: "pf-done" for t in found.tasks if t.state == StepStatus.COMPLETED}
    marks.update({t.element_id: "pf-current" for t in found.tasks if t.state == StepStatus.READY})
    texts_ = texts(language())
    overlays = [
        {"id": t.element_id, "text": f"{texts_['due']}: {_moment(t.due_at, zone)}", "kind": "due"}
        for t in found.tasks
        if t.state == StepStatus.READY and t.due_at
    ]
    src = url_for(
        "web_public.model_xml", region=found.region, key=found.process_key, version=found.version
    )
    documents = verification.application_documents(ctx(), actor, application_id)
    return render(
        "application.html", a=found, zone=zone, marks=marks, overlays=overlays, diagram_src=src,
        documents=documents,
    )


@blp.get("/permohonan/<uuid:application_id>/dokumen/<number>")
def document_pdf(application_id: uuid.UUID, number: str) -> Any:
    """An officer's download of a document issued to the application (the PDF as issued)."""
    name, pdf = verification.application_pdf(ctx(), require_actor(), application_id, number)
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=name,
                     as_attachment=True, max_age=0)


def _moment(value: Any, zone: str) -> str:
    from api.web.formats import moment

    return moment(value, zone)


@blp.post("/permohonan/<uuid:application_id>/bayar")
def pay(application_id: uuid.UUID) -> Any:
    """Record the payment of one fee item (cashier, front office, supervisor)."""
    form = request.form
    try:
        receipt = payments.record_payment(
            ctx(),
            require_actor(),
            application_id,
            uuid.UUID(form.get("fee_item", "")),
            _int(form.get("amount", "")),
            form.get("reference", "").strip(),
            form.get("channel", "bank_transfer"),
        )
    except (ValueError, e.EngineError) as exc:
        message = explain(exc) if isinstance(exc, e.EngineError) else str(exc)
        problems = [p.message for p in getattr(exc, "problems", [])]
        flash(" ".join([message, *problems]), "error")
    else:
        flash(texts(language())["payment_recorded"].format(receipt=receipt["receipt_no"]), "status")
    return redirect(url_for("web_console.application", application_id=application_id) + "#fees")


def _int(text: str) -> Any:
    cleaned = text.replace(".", "").replace(" ", "").strip()
    return int(cleaned) if cleaned.isdigit() else text


@blp.route("/mulai", methods=["GET", "POST"])
def start() -> Any:
    """Register a new application at the counter, then go to its first step."""
    actor = require_actor()
    region = actor.region_code or request.values.get("region", "")
    choices = _processes(region) if region else []
    if request.method == "GET":
        return render("start.html", processes=choices, values={})
    form = request.form
    applicant = {
        k: form.get(k, "").strip() for k in ("name", "nik", "phone") if form.get(k, "").strip()
    }
    try:
        started = applications.start_application(
            ctx(), actor, region, form.get("process_key", ""), applicant, {}
        )
    except e.EngineError as exc:
        flash_refusal(exc)
        return render("start.html", 422, processes=choices, values=form)
    flash(texts(language())["started_ok"].format(code=started.tracking_code), "status")
    return redirect(_next_page(started))
