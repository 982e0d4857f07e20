"""The base of every repository: one session, the unit of work's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from engine.domain import views


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

    def bounded_page(
        self, query: Select[Any], limit: int, offset: int
    ) -> tuple[list[Any], int, bool]:
        """(items, total, capped): the total is exact up to `count_bound(limit, offset)`;
        past it `capped` is True and the total is that bound."""
        bound = count_bound(limit, offset)
        # Only the filter is counted (no columns): the database can answer from an index.
        ones: Select[Any] = query.order_by(None).with_only_columns(
            literal_column("1"), maintain_column_froms=True
        )
        counted = self.session.scalar(bounded_count(ones), {"cap": bound + 1})
        total, capped = capped_total(counted, bound)
        items = list(self.session.scalars(query.limit(limit).offset(offset)))
        return items, total, capped


def count_bound(limit: int, offset: int) -> int:
    """How far a listing's total is counted exactly: `COUNT_CAP`, or the end of the page.

    An exact count of a 1M backlog reads the whole index range on every page; a bounded
    one costs the same at 1k and at 1M (issue #16)."""
    return max(views.COUNT_CAP, offset + limit)


def bounded_count(ones: Select[Any]) -> Select[Any]:
    """COUNT(*) over at most `:cap` rows of `ones` (a SELECT of a constant)."""
    return select(func.count()).select_from(ones.limit(bindparam("cap")).subquery())


def capped_total(counted: int | None, bound: int) -> tuple[int, bool]:
    """(total, capped) from a count of at most `bound + 1` rows."""
    n = int(counted or 0)
    return (bound, True) if n > bound else (n, False)
