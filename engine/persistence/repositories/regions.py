"""Regions and their people: a region's row and calendar revision, its users and their
API tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select

from engine.persistence.base import BaseRepository
from engine.persistence.tables import RegionRecord, TokenRecord, UserRecord


class RegionRepository(BaseRepository):
    def get(self, code: str) -> RegionRecord | None:
        return self.session.get(RegionRecord, code)

    def calendar_revision(self, code: str) -> int:
        """The region's calendar revision (0 for a region that does not exist)."""
        query = select(RegionRecord.calendar_revision).where(RegionRecord.code == code)
        return self.session.scalar(query) or 0

    def calendar_revisions(self, codes: Iterable[str]) -> dict[str, int]:
        """The calendar revision of each of `codes` that exists (one query for a page)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        query = select(RegionRecord.code, RegionRecord.calendar_revision).where(
            RegionRecord.code.in_(wanted)
        )
        return {code: revision for code, revision in self.session.execute(query)}

    def list(self) -> Sequence[RegionRecord]:
        return self.session.scalars(select(RegionRecord).order_by(RegionRecord.code)).all()


class UserRepository(BaseRepository):
    def by_token_hash(self, token_hash: str) -> tuple[UserRecord, TokenRecord] | None:
        """The user holding the token with this hash, and the token (valid or not)."""
        query = (
            select(UserRecord, TokenRecord)
            .join(TokenRecord, TokenRecord.user_id == UserRecord.id)
            .where(TokenRecord.token_hash == token_hash)
        )
        row = self.session.execute(query).first()
        return (row[0], row[1]) if row is not None else None

    def get(self, user_id: int) -> UserRecord | None:
        return self.session.get(UserRecord, user_id)

    def active_in_region(self, region_code: str) -> Sequence[UserRecord]:
        """The region's active users, by name (the web console's reassignment choices)."""
        query = (
            select(UserRecord)
            .where(UserRecord.region_code == region_code, UserRecord.active.is_(True))
            .order_by(UserRecord.name, UserRecord.id)
        )
        return self.session.scalars(query).all()

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        """Display names of the users with these ids (unknown ids are left out)."""
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        query = select(UserRecord.id, UserRecord.name).where(UserRecord.id.in_(wanted))
        return {row.id: row.name for row in self.session.execute(query)}

    def add_token(self, token: TokenRecord) -> None:
        self.session.add(token)

    def token(self, token_id: int) -> TokenRecord | None:
        return self.session.get(TokenRecord, token_id)

    def listing(self, region_code: str | None) -> Sequence[UserRecord]:
        query = select(UserRecord).order_by(UserRecord.id)
        if region_code is not None:
            query = query.where(UserRecord.region_code == region_code)
        return self.session.scalars(query).all()

    def tokens_of(self, user_ids: Iterable[int]) -> Sequence[TokenRecord]:
        query = select(TokenRecord).where(TokenRecord.user_id.in_(list(user_ids)))
        return self.session.scalars(query.order_by(TokenRecord.id)).all()
