"""Complaints (pengaduan) and satisfaction surveys (SKM): their rows and figures."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine.persistence.base import BaseRepository
from engine.persistence.tables import ComplaintRecord, SurveyRecord


class CitizenQueries(BaseRepository):
    def complaint(self, number: str, *, for_update: bool = False) -> ComplaintRecord | None:
        query = select(ComplaintRecord).where(ComplaintRecord.number == number)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def complaints_of(self, application_id: uuid.UUID) -> Sequence[ComplaintRecord]:
        return self.session.scalars(
            select(ComplaintRecord)
            .where(ComplaintRecord.application_id == application_id)
            .order_by(ComplaintRecord.filed_at, ComplaintRecord.number)
        ).all()

    def complaint_inbox(
        self, region_code: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[ComplaintRecord], int]:
        """A region's complaints (every region's for None), soonest due first."""
        query = select(ComplaintRecord)
        if region_code is not None:
            query = query.where(ComplaintRecord.region_code == region_code)
        if status is not None:
            query = query.where(ComplaintRecord.status == status)
        query = query.order_by(ComplaintRecord.due_at, ComplaintRecord.number)
        return self.page(query, limit, offset)

    def complaint_counts(self, region_code: str) -> Sequence[Any]:
        """(process key, filed, answered, answered in time) of a region's complaints."""
        answered = ComplaintRecord.answered_at.is_not(None)
        in_time = answered & (ComplaintRecord.answered_at <= ComplaintRecord.due_at)
        return self.session.execute(
            select(
                ComplaintRecord.process_key,
                func.count(),
                func.count().filter(answered),
                func.count().filter(in_time),
            )
            .where(ComplaintRecord.region_code == region_code)
            .group_by(ComplaintRecord.process_key)
        ).all()

    def survey_of(self, application_id: uuid.UUID) -> SurveyRecord | None:
        return self.session.scalars(
            select(SurveyRecord).where(SurveyRecord.application_id == application_id)
        ).first()

    def survey_answers(
        self,
        region_code: str | None,
        process_key: str | None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Sequence[Any]:
        """(region, process key, answers) of every survey given, filtered."""
        query = select(SurveyRecord.region_code, SurveyRecord.process_key, SurveyRecord.answers)
        if region_code is not None:
            query = query.where(SurveyRecord.region_code == region_code)
        if process_key is not None:
            query = query.where(SurveyRecord.process_key == process_key)
        if since is not None:
            query = query.where(SurveyRecord.given_at >= since)
        if until is not None:
            query = query.where(SurveyRecord.given_at < until)
        return self.session.execute(query.order_by(SurveyRecord.id)).all()
