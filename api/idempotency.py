"""`Idempotency-Key` on every write request of the API: a retry gets the first answer.

A POST (or PUT, PATCH, DELETE) with the header runs once per caller and key: its change and
its claim on the key commit together, its answer is stored, and for 24 hours the same
request with the same key gets that answer again (status and body, with
`Idempotent-Replayed: true`), without being done again; the same key with another request
answers 422. A second request racing the first writes nothing and gets the first's answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time

from flask import Flask, Response, g, request

from api.auth import current_actor
from api.errors import HTTP_TITLES, problem
from api.wiring import ctx
from engine.domain.errors import AuthenticationError, StorageUnavailableError
from engine.persistence.idempotency import pending
from engine.services import idempotency
from engine.services.idempotency import HEADER, Claim, DuplicateClaimError, StoredAnswer

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_log = logging.getLogger("permitflow.idempotency")
_HEADER_KEY = "HTTP_" + HEADER.upper().replace("-", "_")  # its WSGI environ key
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as Stripe and the IETF draft


def _scope() -> str | None:
    """Whose key this is: the authenticated user, or for a public request its path (a
    tracking code's complaint or survey, a bank channel's callback: callers who do not know
    each other's keys must not collide on them); None for a bad token."""
    if not request.headers.get("Authorization"):
        return "public:" + hashlib.sha256(request.path.encode()).hexdigest()[:40]
    try:
        return f"user:{current_actor().id}"
    except AuthenticationError:
        return None  # the view answers 401 and writes nothing


def _before() -> Response | None:
    # The header as `request.headers.get` reads it, without the KeyError it raises inside
    # when the header is absent (most requests).
    key = request.environ.get(_HEADER_KEY)
    if key is None or request.method not in WRITE_METHODS or request.url_rule is None:
        return None
    if (request.blueprint or "").startswith("web_"):  # console forms carry a CSRF token
        return None
    if not _VALID_KEY.fullmatch(key):
        type_, title_id, title_en = HTTP_TITLES[422]
        return problem(
            422,
            type_,
            (title_id, title_en),
            "an Idempotency-Key is 1 to 255 visible ASCII characters",
            [{"field": HEADER, "message": "not 1 to 255 visible ASCII characters"}],
        )
    scope = _scope()
    if scope is None:
        return None
    print_ = idempotency.fingerprint(request.method, request.path, request.get_data())
    found = idempotency.begin(ctx(), scope, key, print_)
    if isinstance(found, StoredAnswer):
        return _replayed(found)
    g.idempotency_claim = found
    g.idempotency_token = pending.set(found)
    return None


def _replayed(answer: StoredAnswer) -> Response:
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _after(response: Response) -> Response:
    claim: Claim | None = g.get("idempotency_claim")
    if claim is not None and claim.claimed and not response.is_streamed:
        answer = StoredAnswer(
            response.status_code, response.content_type or "", response.get_data()
        )
        try:
            idempotency.store(ctx(), claim, answer)
        except StorageUnavailableError as exc:
            # The change is committed and this answer is true: give it. Only the stored
            # copy is lost (the database went away between the two transactions, e.g. a
            # primary crash); a retry with the key answers 409, "made, read the resource".
            # Raised here, after the view, it would reach the client as a 500.
            _log.warning("idempotency answer not stored: %s", exc.detail)
    return response


def _teardown(_exc: BaseException | None) -> None:
    token = g.pop("idempotency_token", None)
    if token is not None:
        pending.reset(token)


def _lost_race(_exc: DuplicateClaimError) -> Response:
    """Another request with the same key committed first: this one wrote nothing, and
    answers as the first did once the first has stored its answer (a moment later)."""
    for _ in range(50):
        try:
            return _replayed(idempotency.answer_of(ctx(), g.idempotency_claim))
        except idempotency.RequestInProgressError:
            time.sleep(0.1)
    return _replayed(idempotency.answer_of(ctx(), g.idempotency_claim))


def init_idempotency(app: Flask) -> None:
    """Install the hooks (after request validation: refused requests claim nothing)."""
    app.before_request(_before)
    app.after_request(_after)
    app.teardown_request(_teardown)
    app.register_error_handler(DuplicateClaimError, _lost_race)
