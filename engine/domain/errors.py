"""Business errors: named facts about why a use case refused.

No HTTP here: `api/errors.py` maps each class to a status code and problem type.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.domain.problems import Problem


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, detail: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = list(problems)


class NotFoundError(EngineError):
    """The thing does not exist, or the caller may not see it (same answer, on purpose)."""


class PermissionDeniedError(EngineError):
    """The caller is known but lacks the role for this action."""


class AuthenticationError(EngineError):
    """No valid credentials were presented."""


class InvalidInputError(EngineError):
    """The request is well-formed but its content is not acceptable."""


class ModelInvalidError(InvalidInputError):
    """An uploaded process model has problems; `problems` lists all of them."""


class FormInvalidError(InvalidInputError):
    """Task data does not satisfy the step's form schema; `problems` carries field paths."""


class DocumentRefusedError(InvalidInputError):
    """An uploaded document is empty, not a PDF/JPEG/PNG by content, malformed, active
    (scripts, embedded files) or a bomb; `problems` name the document."""


class DocumentTooLargeError(InvalidInputError):
    """An uploaded document is larger than the configured limit; `problems` name it."""


class DocumentStoreError(EngineError):
    """The document store cannot be reached, or holds bytes that no longer match their hash."""


class StorageUnavailableError(EngineError):
    """The database cannot be reached, or its schema is not migrated."""


class SigningKeyUnavailableError(EngineError):
    """A region's private signing key cannot be read (key directory missing, passphrase)."""


class ConflictError(EngineError):
    """The action is not possible in the current state."""


class DocumentRetainedError(ConflictError):
    """A document may not be deleted: the service's archive rule still keeps it."""


class AlreadyExistsError(ConflictError):
    """A resource with the same identity already exists."""


class TaskNotReadyError(ConflictError):
    """The task was already completed or cancelled."""


class TaskClaimedError(ConflictError):
    """Another officer holds the task."""


class ConcurrentUpdateError(ConflictError):
    """Someone else changed the same application at the same time; nothing was written."""


class FeeUnpaidError(ConflictError):
    """The step's fee item is not paid yet."""


class ApplicationNotRunningError(ConflictError):
    """The application is completed, cancelled or in error."""


class ApplicationNotInErrorError(ConflictError):
    """Only an application stopped by an error can be retried."""


class StandardNotPublishableError(ConflictError):
    """A version's service standard may not be published yet; `problems` names each field
    (no decree number, a replica's standard not made local)."""


class ModelNotPublishedError(ConflictError):
    """The process model has no version that accepts new applications."""


class MessageNotCorrelatedError(NotFoundError):
    """No application waits for the message, and no model starts with it."""


class MessageAmbiguousError(ConflictError):
    """Several applications (or tasks, or models) would take the message."""


class StartsByMessageError(ConflictError):
    """The model starts only with a message: it is started by `POST /api/v1/messages`."""


class ExternalTaskLockError(ConflictError):
    """The worker does not hold the external task's lock (never did, lost it, or it expired),
    or the task is no longer open."""
