"""Issue #11 cause 7: every length a database column enforces is checked at upload.

Before, PostgreSQL refused a process title over 300 characters with a 500 at upload, and
a task id over 200 characters uploaded fine, then failed every start.
"""

from __future__ import annotations

import pytest

from engine.context import EngineContext
from engine.domain.errors import ModelInvalidError
from engine.modeling import lengths
from engine.persistence.tables import (
    ApplicationRecord,
    FeeItemRecord,
    ModelVersionRecord,
    ProcessModelRecord,
    TaskRecord,
    TimerRecord,
)
from tests.factories import make_region, tiny_bpmn, upload


def _length(column) -> int:  # type: ignore[no-untyped-def]
    return column.property.columns[0].type.length


@pytest.mark.parametrize(
    ("limit", "columns"),
    [
        (lengths.MAX_ELEMENT_ID,
         [TaskRecord.element_id, TimerRecord.element_id, FeeItemRecord.element_id]),
        (lengths.MAX_TITLE,
         [ProcessModelRecord.title, ModelVersionRecord.title, ApplicationRecord.title]),
        (lengths.MAX_STEP_NAME, [TaskRecord.name, FeeItemRecord.name]),
        (lengths.MAX_ROLE, [TaskRecord.role]),
        (lengths.MAX_FORM_NAME, [TaskRecord.form]),
        (lengths.MAX_SLA, [TaskRecord.sla, ApplicationRecord.process_sla,
                           ModelVersionRecord.process_sla]),
    ],
)
def test_each_limit_is_the_length_of_the_columns_it_guards(limit: int, columns: list) -> None:
    assert {_length(c) for c in columns} == {limit}


def _long(bpmn: bytes, old: bytes, new: bytes) -> bytes:
    assert old in bpmn
    return bpmn.replace(old, new)


CASES = {
    "title": (b'name="Izin tiny"', b'name="' + b"Izin " * 70 + b'"', "name", "tiny"),
    "task id": (b"step_1", b"s" * 201, "id", "s" * 200),
    "step name": (b'name="Langkah 1"', b'name="' + b"L" * 301 + b'"', "name", "step_1"),
    # (A lane id that long is no role name at all: the lane rule refuses it, see
    # test_bad_models; candidate groups are taken as written.)
    "role": (b'name="Langkah 1"',
             b'name="Langkah 1" camunda:candidateGroups="' + b"r" * 101 + b'"', "role", "step_1"),
}


@pytest.mark.parametrize(("old", "new", "field", "element_id"), CASES.values(), ids=CASES.keys())
def test_an_over_long_value_is_refused_at_upload_where_it_stands(
    ctx: EngineContext, old: bytes, new: bytes, field: str, element_id: str
) -> None:
    make_region(ctx, "3273")
    with pytest.raises(ModelInvalidError) as refused:
        upload(ctx, "3273", _long(tiny_bpmn(steps=1), old, new))
    found = [p for p in refused.value.problems if "characters; at most" in p.message]
    assert [(p.field, p.element_id) for p in found] == [(field, element_id)]
    assert found[0].line is not None
