"""Who is acting, and what their roles allow (DESIGN §6 "Auth").

Roles: `admin` (everything, every region), `analyst` (models of own region),
`supervisor` (oversight of own region), and officer roles, which are the lane roles of
the models (`front-office`, `technical-team`, ...). Applicant-lane steps are done by the
applicant's own account (role `applicant`, own applications only) or by the front office
on the applicant's behalf.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.domain.definitions import APPLICANT_ROLES

ADMIN = "admin"
ANALYST = "analyst"
SUPERVISOR = "supervisor"
FRONT_OFFICE = "front-office"
SYSTEM_ACTOR_ID = 0


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated caller: a user with roles, bound to a region (admins may not be)."""

    id: int
    name: str
    region_code: str | None
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        """Admins see and do everything."""
        return ADMIN in self.roles

    @property
    def label(self) -> str:
        """How the audit log names this actor."""
        return f"user:{self.id}:{self.name}"

    def sees_region(self, region_code: str) -> bool:
        """Whether data of `region_code` exists for this actor (else it answers 404)."""
        return self.is_admin or self.region_code == region_code

    def has_any(self, *roles: str) -> bool:
        """Whether the actor holds one of `roles` (admins hold all)."""
        return self.is_admin or bool(self.roles.intersection(roles))

    def step_roles(self) -> frozenset[str]:
        """The step roles whose tasks this actor may work."""
        roles = set(self.roles)
        if FRONT_OFFICE in roles:
            roles |= APPLICANT_ROLES  # the counter completes applicant steps on their behalf
        return frozenset(roles)

    def may_work_step(self, role: str, *, own_application: bool) -> bool:
        """Whether this actor may claim or complete a step of `role`."""
        if self.is_admin or role in self.step_roles() - APPLICANT_ROLES:
            return True
        if role in APPLICANT_ROLES:
            return FRONT_OFFICE in self.roles or (
                bool(self.roles & APPLICANT_ROLES) and own_application
            )
        return False

    @property
    def applicant_only(self) -> bool:
        """An applicant account: sees only its own applications."""
        return not self.is_admin and self.roles <= APPLICANT_ROLES


SYSTEM = Actor(SYSTEM_ACTOR_ID, "system", None, frozenset({ADMIN}))
