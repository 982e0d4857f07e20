"""Supervisors' pages: overdue steps with reassignment, and the SLA report with its chart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from api.web.i18n import language, texts
from api.web.pages import flash_refusal, render
from api.web.session import require_actor
from api.wiring import ctx
from engine.domain import errors as e
from engine.services import console, reports, tasks

blp = Blueprint(
    "web_supervisors", __name__, url_prefix="/konsol/supervisi", template_folder="templates"
)


@blp.get("/")
def supervise() -> Any:
    """Overdue steps of the region, each with the officers it may be handed to."""
    actor = require_actor()
    overdue = tasks.inbox(ctx(), actor, overdue=True, limit=200)
    region = actor.region_code
    officers = console.officers(ctx(), actor, region) if region else []
    return render("supervise.html", page=overdue, officers=officers)


@blp.post("/tugas/<uuid:task_id>/alihkan")
def reassign(task_id: uuid.UUID) -> Any:
    """Hand an overdue step to another officer, with a reason (audited)."""
    try:
        tasks.assign_task(
            ctx(),
            require_actor(),
            task_id,
            int(request.form.get("user_id", "0") or 0),
            request.form.get("reason", "").strip() or None,
        )
        flash(texts(language())["reassigned_ok"], "status")
    except e.EngineError as exc:
        flash_refusal(exc)
    return redirect(url_for("web_supervisors.supervise"))


@blp.get("/laporan")
def report() -> Any:
    """SLA compliance per process and step over a period (default: the last 30 days)."""
    until = _day(request.args.get("to"), datetime.now(UTC) + timedelta(days=1))
    since = _day(request.args.get("from"), until - timedelta(days=31))
    data = reports.sla_report(ctx(), require_actor(), since, until)
    chart = {
        "labels": [f"{r['process_key']} · {r['name']}" for r in data["steps"]],
        "values": [round((r["on_time_rate"] or 0) * 100, 1) for r in data["steps"]],
        "label": texts(language())["on_time"] + " (%)",
    }
    return render("report.html", r=data, chart=chart, since=since.date(), until=until.date())


def _day(text: str | None, default: datetime) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else default
    except ValueError:
        return default
