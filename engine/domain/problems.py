"""A located problem: what is wrong, and where (element, line, field).

Every validation step in the engine reports `Problem`s rather than raising on the
first fault, so an analyst sees everything wrong with a model in one answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    message: str
    element_id: str | None = None
    line: int | None = None
    field: str | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The problem as a JSON-ready dict without empty locations."""
        return {k: v for k, v in asdict(self).items() if v is not None}
