"""Repositories: the queries the services need, one small class per aggregate, and
`Repositories`, all of them over one session (`uow.repos`).

Reads that serve listings touch indexed columns only; the workflow state column is
loaded only by the use cases that run the engine. The classes live in one module per
idea (regions and users, process models, applications, tasks, money, audit events,
timers); the other queries are the `*_queries.py` modules beside this package.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.persistence.applicant_document_queries import ApplicantDocumentRepository
from engine.persistence.audit_queries import AuditRepository
from engine.persistence.billing_queries import BillingRepository
from engine.persistence.calendar_queries import CalendarRepository
from engine.persistence.citizen_queries import CitizenQueries
from engine.persistence.document_queries import DocumentRepository
from engine.persistence.external_task_queries import ExternalTaskRepository
from engine.persistence.message_queries import MessageRepository
from engine.persistence.metrics_queries import MetricsQueries
from engine.persistence.ops_queries import EtagQueries, IdempotencyQueries, OpsQueries
from engine.persistence.outbox_queries import NotificationRepository
from engine.persistence.report_queries import ReportQueries
from engine.persistence.repositories.applications import ApplicationRepository
from engine.persistence.repositories.audit import EventRepository
from engine.persistence.repositories.money import FeeRepository
from engine.persistence.repositories.process_models import ModelRepository
from engine.persistence.repositories.regions import RegionRepository, UserRepository
from engine.persistence.repositories.tasks import TaskRepository
from engine.persistence.repositories.waits import TimerRepository
from engine.persistence.step_queries import StepQueries
from engine.persistence.version_queries import VersionQueries

__all__ = [
    "ApplicationRepository",
    "EventRepository",
    "FeeRepository",
    "ModelRepository",
    "RegionRepository",
    "Repositories",
    "TaskRepository",
    "TimerRepository",
    "UserRepository",
]


class Repositories:
    """All repositories over one session."""

    def __init__(self, session: Session) -> None:
        self.regions = RegionRepository(session)
        self.users = UserRepository(session)
        self.models = ModelRepository(session)
        self.applications = ApplicationRepository(session)
        self.tasks = TaskRepository(session)
        self.steps = StepQueries(session)
        self.events = EventRepository(session)
        self.fees = FeeRepository(session)
        self.billing = BillingRepository(session)
        self.documents = DocumentRepository(session)
        self.timers = TimerRepository(session)
        self.messages = MessageRepository(session)
        self.external_tasks = ExternalTaskRepository(session)
        self.notifications = NotificationRepository(session)
        self.audit = AuditRepository(session)
        self.calendars = CalendarRepository(session)
        self.reports = ReportQueries(session)
        self.versions = VersionQueries(session)
        self.citizen = CitizenQueries(session)
        self.applicant_documents = ApplicantDocumentRepository(session)
        self.ops = OpsQueries(session)
        self.metrics = MetricsQueries(session)
        self.idempotency = IdempotencyQueries(session)
        self.etags = EtagQueries(session)
