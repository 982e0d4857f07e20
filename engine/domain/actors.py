"""Who is acting, and what their roles allow (DESIGN §6 "Auth").

Roles: `admin` (everything, every region), `analyst` (models of own region),
`supervisor` (oversight of own region), `integration` (another system's service account:
sends messages to its region's applications), `external-worker` (a worker's service
account: fetches and answers its region's external service tasks), and officer roles,
which are the lane roles of the models (`front-office`, `technical-team`, ...).
Applicant-lane steps are done by the applicant's own account (role `applicant`, own
applications only) or by a role holding the power to act for the applicant.

Two powers are held by roles a region declares (default as below): acting for the
applicant (starting applications at the counter, completing the applicant's steps) and
recording payments. A model whose counter lane is `front_office` declares
`acts-for-applicant: [front_office]` for its region, and its own counter has the power.

Who reads what inside a region (`Actor.access_to`):
- everything: admin, supervisor, and the roles acting for the applicant;
- an application with the applicant's personal data and its tasks' data: officers whose
  roles have steps in that application's model version, and the applicant account that
  started it;
- status, tasks and fees without personal data (`Access.REDACTED`): roles recording payments;
- nothing (the application answers 404): every other role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from engine.domain.definitions import APPLICANT_ROLES

ADMIN = "admin"
ANALYST = "analyst"
SUPERVISOR = "supervisor"
FRONT_OFFICE = "front-office"
CASHIER = "cashier"
# A service account of another system (a bank, the national licensing system) that sends
# messages to the region's applications (`POST /api/v1/messages`).
INTEGRATION = "integration"
# A service account of a worker that fetches and answers external service tasks
# (`POST /api/v1/external-tasks/...`) of its region.
EXTERNAL_WORKER = "external-worker"
SYSTEM_ACTOR_ID = 0

ACTS_FOR_APPLICANT = "acts-for-applicant"
RECORDS_PAYMENTS = "records-payments"
DEFAULT_POWERS: dict[str, tuple[str, ...]] = {
    ACTS_FOR_APPLICANT: (FRONT_OFFICE,),
    RECORDS_PAYMENTS: (CASHIER, FRONT_OFFICE),
}
BUILT_IN_ROLES = frozenset(
    {ADMIN, ANALYST, SUPERVISOR, INTEGRATION, EXTERNAL_WORKER, *APPLICANT_ROLES}
)


class Access(Enum):
    """How much of an application an actor may read."""

    NONE = 0
    REDACTED = 1
    FULL = 2


def region_powers(declared: Mapping[str, Sequence[str]] | None) -> dict[str, frozenset[str]]:
    """Each power's roles in a region: its declaration, else the default."""
    declared = declared or {}
    return {
        power: frozenset(declared.get(power, default)) for power, default in DEFAULT_POWERS.items()
    }


def powers_of(
    roles: frozenset[str], declared: Mapping[str, Sequence[str]] | None
) -> frozenset[str]:
    """The powers `roles` hold in a region that declared `declared`."""
    return frozenset(p for p, holders in region_powers(declared).items() if roles & holders)


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated caller: a user with roles, bound to a region (admins may not be),
    and the powers those roles hold in that region."""

    id: int
    name: str
    region_code: str | None
    roles: frozenset[str]
    powers: frozenset[str] = frozenset()

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

    def holds(self, power: str) -> bool:
        """Whether the actor holds `power` in its region (admins hold all)."""
        return self.is_admin or power in self.powers

    def step_roles(self) -> frozenset[str]:
        """The step roles whose tasks this actor may work."""
        roles = set(self.roles)
        if ACTS_FOR_APPLICANT in self.powers:
            roles |= APPLICANT_ROLES  # the counter completes applicant steps on their behalf
        return frozenset(roles)

    def may_work_step(self, role: str, *, own_application: bool) -> bool:
        """Whether this actor may claim or complete a step of `role`."""
        if self.is_admin or role in self.step_roles() - APPLICANT_ROLES:
            return True
        if role in APPLICANT_ROLES:
            return ACTS_FOR_APPLICANT in self.powers or (
                bool(self.roles & APPLICANT_ROLES) and own_application
            )
        return False

    def may_start(self) -> bool:
        """Whether this actor may start applications: the counter (acting for applicants),
        an applicant account (for itself), admins."""
        return self.holds(ACTS_FOR_APPLICANT) or bool(self.roles & APPLICANT_ROLES)

    def access_to(
        self, region_code: str, created_by: int | None, version_roles: frozenset[str]
    ) -> Access:
        """How much of an application of `region_code` this actor reads (module docstring)."""
        if not self.sees_region(region_code):
            return Access.NONE
        if self.is_admin or SUPERVISOR in self.roles or ACTS_FOR_APPLICANT in self.powers:
            return Access.FULL
        if self.applicant_only:
            return Access.FULL if created_by == self.id else Access.NONE
        if self.roles & version_roles:
            return Access.FULL
        return Access.REDACTED if RECORDS_PAYMENTS in self.powers else Access.NONE

    @property
    def applicant_only(self) -> bool:
        """An applicant account: sees only its own applications."""
        return not self.is_admin and self.roles <= APPLICANT_ROLES


SYSTEM = Actor(SYSTEM_ACTOR_ID, "system", None, frozenset({ADMIN}))
