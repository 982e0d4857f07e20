"""Business errors: named facts about why a use case refused.

No HTTP here: `api/errors.py` maps each class to a status code and problem type.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.domain.problems import Problem


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    title = "Request refused"

    def __init__(self, detail: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = list(problems)


class NotFoundError(EngineError):
    """The thing does not exist, or the caller may not see it (same answer, on purpose)."""

    title = "Not found"


class PermissionDeniedError(EngineError):
    """The caller is known but lacks the role for this action."""

    title = "Permission denied"


class AuthenticationError(EngineError):
    """No valid credentials were presented."""

    title = "Authentication required"


class InvalidInputError(EngineError):
    """The request is well-formed but its content is not acceptable."""

    title = "Invalid input"


class ModelInvalidError(InvalidInputError):
    """An uploaded process model has problems; `problems` lists all of them."""

    title = "Process model rejected"


class FormInvalidError(InvalidInputError):
    """Task data does not satisfy the step's form schema; `problems` carries field paths."""

    title = "Form data invalid"


class StorageUnavailableError(EngineError):
    """The database cannot be reached, or its schema is not migrated."""

    title = "Storage unavailable"


class ConflictError(EngineError):
    """The action is not possible in the current state."""

    title = "Conflict"


class AlreadyExistsError(ConflictError):
    """A resource with the same identity already exists."""

    title = "Already exists"


class TaskNotReadyError(ConflictError):
    """The task was already completed or cancelled."""

    title = "Task is not ready"


class TaskClaimedError(ConflictError):
    """Another officer holds the task."""

    title = "Task is claimed by another officer"


class ConcurrentUpdateError(ConflictError):
    """Someone else changed the same application at the same time; nothing was written."""

    title = "Concurrent update"


class FeeUnpaidError(ConflictError):
    """The step's fee item is not paid yet."""

    title = "Fee unpaid"


class ApplicationNotRunningError(ConflictError):
    """The application is completed, cancelled or in error."""

    title = "Application is not running"


class ModelNotPublishedError(ConflictError):
    """The process model has no version that accepts new applications."""

    title = "No published version"
