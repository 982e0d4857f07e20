"""Every error leaves as application/problem+json (RFC 9457), from one table.

Domain errors map to a status and a problem `type` here and nowhere else; HTTP errors
(404 routing, 405, 413, marshmallow's 422) and unhandled exceptions get the same body.
Titles are in Bahasa Indonesia unless the client prefers English (Accept-Language).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Request, Response, g, has_request_context, json, request
from werkzeug.exceptions import HTTPException

from api.validation import RequestRefusedError, check_request
from engine.domain import errors as e

log = logging.getLogger("permitflow.api")

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "5"  # on 503: about the time a failover manager needs to promote

# error class -> (status, type, title id, title en); the most specific class wins.
ERROR_TABLE: dict[type[e.EngineError], tuple[int, str, str, str]] = {
    e.ModelInvalidError: (422, "model-invalid", "Model proses ditolak", "Process model rejected"),
    e.DocumentTooLargeError: (
        413, "document-too-large", "Dokumen terlalu besar", "Document too large"
    ),
    e.DocumentRefusedError: (422, "document-refused", "Dokumen ditolak", "Document refused"),
    e.FormInvalidError: (422, "form-invalid", "Data formulir tidak valid", "Form data invalid"),
    e.InvalidInputError: (422, "invalid-input", "Masukan tidak valid", "Invalid input"),
    e.NotFoundError: (404, "not-found", "Tidak ditemukan", "Not found"),
    e.AuthenticationError: (401, "unauthenticated", "Perlu autentikasi", "Authentication required"),
    e.PermissionDeniedError: (403, "forbidden", "Tidak diizinkan", "Permission denied"),
    e.FeeUnpaidError: (409, "fee-unpaid", "Biaya belum dibayar", "Fee unpaid"),
    e.TaskNotReadyError: (409, "task-not-ready", "Tugas tidak siap", "Task is not ready"),
    e.TaskClaimedError: (
        409,
        "task-claimed",
        "Tugas diambil petugas lain",
        "Task is claimed by another officer",
    ),
    e.ConcurrentUpdateError: (409, "concurrent-update", "Perubahan bersamaan", "Concurrent update"),
    e.ApplicationNotRunningError: (
        409,
        "application-not-running",
        "Permohonan tidak berjalan",
        "Application is not running",
    ),
    e.ApplicationNotInErrorError: (
        409,
        "application-not-in-error",
        "Permohonan tidak sedang berhenti karena galat",
        "Application is not stopped by an error",
    ),
    e.StandardNotPublishableError: (
        409,
        "standard-not-publishable",
        "Standar pelayanan belum dapat diterbitkan",
        "The service standard cannot be published yet",
    ),
    e.ModelNotPublishedError: (
        409,
        "model-not-published",
        "Tidak ada versi terbit",
        "No published version",
    ),
    e.MessageNotCorrelatedError: (
        404,
        "message-not-correlated",
        "Tidak ada yang menunggu pesan ini",
        "No one waits for this message",
    ),
    e.MessageAmbiguousError: (
        409,
        "message-ambiguous",
        "Pesan cocok dengan lebih dari satu penerima",
        "The message matches more than one receiver",
    ),
    e.StartsByMessageError: (
        409,
        "starts-by-message",
        "Proses ini dimulai oleh pesan",
        "This process is started by a message",
    ),
    e.ExternalTaskLockError: (
        409,
        "external-task-lock",
        "Tugas eksternal tidak dikunci oleh pekerja ini",
        "The external task is not locked by this worker",
    ),
    e.DocumentRetainedError: (
        409,
        "document-retained",
        "Dokumen masih disimpan menurut aturan arsip",
        "The archive rule still keeps the document",
    ),
    e.AlreadyExistsError: (409, "already-exists", "Sudah ada", "Already exists"),
    e.ConflictError: (409, "conflict", "Konflik", "Conflict"),
    e.StorageUnavailableError: (
        503,
        "storage-unavailable",
        "Layanan basis data tidak tersedia",
        "Storage unavailable",
    ),
    e.SigningKeyUnavailableError: (
        503,
        "signing-key-unavailable",
        "Kunci tanda tangan dokumen tidak tersedia",
        "Document signing key unavailable",
    ),
    e.DocumentStoreError: (
        503,
        "document-store-unavailable",
        "Penyimpanan dokumen tidak tersedia",
        "Document store unavailable",
    ),
    e.EngineError: (400, "bad-request", "Permintaan ditolak", "Request refused"),
}

HTTP_TITLES = {
    400: ("bad-request", "Permintaan tidak valid", "Bad request"),
    401: ("unauthenticated", "Perlu autentikasi", "Authentication required"),
    403: ("forbidden", "Tidak diizinkan", "Permission denied"),
    404: ("not-found", "Tidak ditemukan", "Not found"),
    405: ("method-not-allowed", "Metode tidak diizinkan", "Method not allowed"),
    406: ("not-acceptable", "Format tidak tersedia", "Not acceptable"),
    413: ("payload-too-large", "Berkas terlalu besar", "Payload too large"),
    415: ("unsupported-media-type", "Jenis konten tidak didukung", "Unsupported media type"),
    422: ("invalid-input", "Masukan tidak valid", "Invalid input"),
    500: ("internal-error", "Kesalahan internal", "Internal server error"),
    503: ("storage-unavailable", "Layanan tidak tersedia", "Service unavailable"),
}


def preferred_language() -> str:
    """ "id" or "en", whichever Accept-Language ranks first by primary subtag; "id" by default.

    werkzeug's best_match wants exact tags, so "id-ID, en;q=0.5" would pick English.
    """
    for tag, quality in request.accept_languages:  # best first, "*" last
        primary = tag.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in ("id", "en"):
            return primary
    return "id"


def wants_english() -> bool:
    """Whether the client prefers English over Bahasa Indonesia."""
    return preferred_language() == "en"


def problem(
    status: int,
    type_: str,
    titles: tuple[str, str],
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """A problem+json response (`extra`: more members, e.g. readiness checks)."""
    body: dict[str, Any] = {
        "type": type_,
        "title": titles[1] if wants_english() else titles[0],
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    if has_request_context() and g.get("request_id"):
        body["request_id"] = g.request_id  # the X-Request-Id of the answer and its log line
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def _engine_error(exc: e.EngineError) -> Response:
    cls = next(c for c in type(exc).__mro__ if c in ERROR_TABLE)
    status, type_, title_id, title_en = ERROR_TABLE[cls]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:  # the database is down, read-only or too slow: a retry may succeed
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
    return problem(
        status,
        type_,
        (title_id, title_en),
        exc.detail,
        [p.as_dict() for p in exc.problems],
        headers,
    )


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    type_, title_id, title_en = HTTP_TITLES.get(status, ("http-error", exc.name, exc.name))
    errors = _webargs_errors(getattr(exc, "data", None))
    detail = (
        "the request body does not match the schema" if errors else (exc.description or exc.name)
    )
    allowed = getattr(exc, "valid_methods", None)  # set on 405 (MethodNotAllowed) only
    headers = {"Allow": ", ".join(allowed)} if allowed else None
    return problem(status, type_, (title_id, title_en), detail, errors, headers)


def _webargs_errors(data: Any) -> list[dict[str, Any]]:
    """Flatten marshmallow's nested messages into [{field, message}] with JSON paths."""
    messages = (data or {}).get("messages") if isinstance(data, dict) else None
    out: list[dict[str, Any]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                # marshmallow files errors about the whole body under "_schema"
                walk(value, path if key == "_schema" else [*path, str(key)])
        elif isinstance(node, list) and all(isinstance(m, str) for m in node):
            out.extend({"field": "/" + "/".join(path), "message": m} for m in node)
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        else:
            out.append({"field": "/" + "/".join(path), "message": str(node)})

    for location, tree in (messages or {}).items():
        walk(tree, [] if location in ("json", "form", "files") else [location])
    return out


def _refused(exc: RequestRefusedError) -> Response:
    type_, title_id, title_en = HTTP_TITLES[exc.status]
    errors = [{"field": field, "message": message} for field, message in exc.problems]
    return problem(exc.status, type_, (title_id, title_en), exc.detail, errors)


def _unhandled(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    # The route template, not the path: a path can hold a tracking code.
    route = request.url_rule.rule if request.url_rule else "(unrouted)"
    log.exception("unhandled error on %s %s", request.method, route)
    type_, title_id, title_en = HTTP_TITLES[500]
    return problem(500, type_, (title_id, title_en), "the server failed; the error is logged")


JSON_TYPES = ("application/json", "application/problem+json")
# Endpoints that take a body other than JSON (model uploads: multipart, zip or XML; a PDF
# to verify: multipart; applicants' documents: the file itself, or multipart).
NON_JSON_ENDPOINTS = {
    "process_models.ProcessModels", "documents.VerifyUpload", "documents.VerifyUploadJson",
    "applicant_documents.TrackedUpload", "applicant_documents.Upload",
}


def require_json_bodies() -> Response | None:
    """A request with a body that is not JSON answers 415, not a confusing 422."""
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    # A JSON body (the API's every write) is the first way out; the order of these pure
    # checks does not change the answer.
    if req.method not in ("POST", "PUT", "PATCH") or req.mimetype in JSON_TYPES:
        return None
    if not req.content_length:
        return None
    if (req.blueprint or "").startswith("web_"):  # the web console's HTML form posts
        return None
    if req.routing_exception is not None:  # 404 or 405 says more than 415
        return None
    if req.endpoint in NON_JSON_ENDPOINTS:
        return None
    type_, title_id, title_en = HTTP_TITLES[415]
    return problem(
        415,
        type_,
        (title_id, title_en),
        f"send the body as application/json, not {req.mimetype or 'untyped data'}",
    )


def register_error_handlers(app: Flask) -> None:
    """Install the handlers (after flask-smorest's, so ours win)."""
    app.register_error_handler(e.EngineError, _engine_error)
    app.register_error_handler(RequestRefusedError, _refused)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unhandled)
    app.before_request(require_json_bodies)
    app.before_request(check_request)
