"""Finding an application by its public tracking code (tracking, complaints, survey)."""

from __future__ import annotations

from engine.domain.errors import NotFoundError
from engine.domain.formats import TRACKING_CODE
from engine.persistence.tables import ApplicationRecord
from engine.unit_of_work import UnitOfWork


def application_by_code(uow: UnitOfWork, code: str) -> ApplicationRecord:
    """The application with tracking code `code` (case and spaces forgiven).

    Raises: NotFoundError (the same answer for a malformed and an unknown code).
    """
    code = (code or "").strip().upper()
    app = uow.repos.applications.by_tracking_code(code) if TRACKING_CODE.matches(code) else None
    if app is None:
        raise NotFoundError("no application has this tracking code")
    return app
