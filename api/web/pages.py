"""What every page shares: rendering with the language and session, headers, error pages."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from api.web import formats
from api.web.i18n import FORMAT_HINTS, STATUS, language, texts
from api.web.session import check_csrf, csrf_token, web_actor
from engine.domain import errors as e

# No inline script or style anywhere: every script and stylesheet is a file of the package.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_SECURITY_HEADERS_BY_LOWER = [
    (name.lower(), name, value) for name, value in SECURITY_HEADERS.items()
]
# Conflicts explained in plain words, by the error's class (the most specific wins).
CONFLICT_TEXTS: list[tuple[type[e.EngineError], str]] = [
    (e.TaskClaimedError, "conflict_claimed"),
    (e.FeeUnpaidError, "conflict_fee"),
    (e.TaskNotReadyError, "conflict_done"),
    (e.ApplicationNotRunningError, "conflict_stopped"),
    (e.ConcurrentUpdateError, "conflict_concurrent"),
    (e.PermissionDeniedError, "forbidden"),
]


def render(template: str, status: int = 200, **values: Any) -> Response:
    """A page in the request's language with the signed-in actor and CSRF token."""
    lang = language()
    html = render_template(
        template,
        lang=lang,
        other_lang="en" if lang == "id" else "id",
        t=texts(lang),
        status_text=STATUS[lang],
        format_hints=FORMAT_HINTS[lang],
        actor=web_actor(),
        csrf=csrf_token,  # called by the forms that need it: no cookie for mere readers
        **values,
    )
    return make_response(html, status)


def explain(exc: e.EngineError) -> str:
    """The plain-words text of a refused action, in the page's language."""
    t = texts(language())
    for cls, key in CONFLICT_TEXTS:
        if isinstance(exc, cls):
            return t[key]
    if isinstance(exc, e.StandardNotPublishableError):  # what to fix, field by field
        return f"{exc.detail}: " + "; ".join(p.message for p in exc.problems)
    return exc.detail


def flash_refusal(exc: e.EngineError) -> None:
    """Tell the next page why an action was refused."""
    flash(explain(exc), "error")


def prepare_blueprint(blueprint: Blueprint) -> Blueprint:
    """CSRF check and HTML error pages for a web blueprint (once, before any registration)."""
    blueprint.before_request(check_csrf)
    blueprint.register_error_handler(e.EngineError, _engine_error_page)
    blueprint.register_error_handler(HTTPException, _http_error_page)
    blueprint.add_app_template_filter(formats.rupiah, "rupiah")
    blueprint.add_app_template_filter(formats.moment, "moment")
    blueprint.add_app_template_filter(formats.localized, "localized")
    blueprint.add_app_template_filter(formats.sla_text, "sla_text")
    blueprint.add_app_template_filter(formats.standard_lines, "standard_lines")
    blueprint.add_app_template_global(formats.countdown, "countdown")
    return blueprint


def init_pages(app: Flask) -> None:
    """The security headers, on every response of the app (pages, API, assets)."""
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    # The header names the response has, read once (each `setdefault` scanned them all).
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    for lowered, name, value in _SECURITY_HEADERS_BY_LOWER:
        if lowered not in present:
            headers.add(name, value)
    return response


def _engine_error_page(exc: e.EngineError) -> Any:
    if isinstance(exc, e.AuthenticationError):
        return redirect(url_for("web_public.sign_in", next=request.full_path))
    status = (
        404
        if isinstance(exc, e.NotFoundError)
        else 403
        if isinstance(exc, e.PermissionDeniedError)
        else 409
        if isinstance(exc, e.ConflictError)
        else 400
    )
    return render("error.html", status, message=explain(exc), problems=exc.problems)


def _http_error_page(exc: HTTPException) -> Any:
    t = texts(language())
    message = t["csrf_failed"] if exc.description == "csrf" else (exc.description or exc.name)
    return render("error.html", exc.code or 500, message=message, problems=[])
