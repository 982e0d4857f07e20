"""Issue #11 cause 6: checking an upload costs time linear in the file.

SpiffWorkflow 3.2.0 indexed each process with the XPath `.//*[@id]`, which libxml2
evaluates in quadratic time: 50,000 text annotations took 5.5 s of CPU, 100,000 minutes.
The check compares CPU time at two sizes, loosely (a linear cost grows 8x, the quadratic
one grew ~60x), so a busy machine does not make it flaky.
"""

from __future__ import annotations

import time

from engine.domain.definitions import ModelPackage
from engine.modeling.compiler import compile_model
from tests.factories import tiny_bpmn


def _annotated(count: int) -> bytes:
    notes = "".join(f'<bpmn:textAnnotation id="note_{i}"/>' for i in range(count))
    return tiny_bpmn(steps=2).replace(b"</bpmn:process>", notes.encode() + b"</bpmn:process>")


def _cpu_seconds(count: int) -> float:
    package = ModelPackage(bpmn=_annotated(count))
    best = float("inf")
    for _ in range(2):
        started = time.process_time()
        compile_model(package)
        best = min(best, time.process_time() - started)
    return best


def test_upload_checks_grow_linearly_with_text_annotations() -> None:
    small, large = _cpu_seconds(5_000), _cpu_seconds(40_000)
    assert large / small < 24, (small, large)
