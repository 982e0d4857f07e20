"""A JSON document together with the text it was decoded from (issue #16).

A step serializes its workflow state once; the `applications.state` column writes this
text as it is instead of encoding the dict again (engine/persistence/state_column.py).
The dict is exactly what decoding the text gives (what the database gives back): the
runtime either decodes the text or, when orjson wrote it from plain values, hands over the
very dict it encoded with nothing of the workflow's left in it
(engine/workflow/serialization.py, `_detach`). Nothing may change it in place (no writer
does: a new state is always a new document).
"""

from __future__ import annotations

from typing import Any


class EncodedJson(dict[str, Any]):
    """A JSON object (`dict`) carrying `text`, the JSON text it is the value of."""

    __slots__ = ("text",)

    def __init__(self, value: dict[str, Any], text: str) -> None:
        super().__init__(value)
        self.text = text
