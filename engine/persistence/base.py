"""The base of every repository: one session, the unit of work's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


class BaseRepository:
    """A repository over one session (the unit of work's)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: Any) -> None:
        self.session.add(record)

    def page(self, query: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
        total = self.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())
        )
        items = list(self.session.scalars(query.limit(limit).offset(offset)))
        return items, int(total or 0)
