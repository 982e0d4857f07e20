"""Mutated uploads: compile_model answers with a model or ModelInvalidError, nothing else."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from engine.domain.definitions import ModelPackage
from engine.domain.errors import ModelInvalidError
from engine.modeling import compile_model, read_package_dir

from .support import FIXTURES

PACKAGE = read_package_dir(FIXTURES / "camunda-pbg")
SEED = 20260611


def _survives(bpmn: bytes) -> None:
    try:
        compile_model(ModelPackage(bpmn=bpmn, forms=PACKAGE.forms, standard=PACKAGE.standard))
    except ModelInvalidError as exc:
        assert exc.problems
        assert all(p.message for p in exc.problems)
        # Our own safety net must never be what answered: that would be a bug in a check.
        assert not any("could not be checked completely" in p.message for p in exc.problems)


def test_truncated_at_many_offsets():
    data = PACKAGE.bpmn
    for offset in range(0, len(data), max(1, len(data) // 60)):
        _survives(data[:offset])


def _mutations(kind: str, count: int):
    rng = random.Random(f"{SEED}-{kind}")
    root = etree.fromstring(PACKAGE.bpmn)
    elements = [e for e in root.iter(etree.Element)]
    for _ in range(count):
        tree = etree.fromstring(PACKAGE.bpmn)
        targets = [e for e in tree.iter(etree.Element)]
        assert len(targets) == len(elements)
        for _ in range(rng.randint(1, 3)):
            _mutate(kind, rng.choice(targets), rng)
        yield etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _mutate(kind: str, element: etree._Element, rng: random.Random) -> None:
    if kind == "attribute" and element.attrib:
        del element.attrib[rng.choice(sorted(element.attrib))]
    elif kind == "element" and element.getparent() is not None:
        element.getparent().remove(element)
    elif kind == "text":
        element.text = rng.choice(["", "PT", "${", "__import__('os')", "\x7f", "-1", "Start",
                                   "x" * 300, "R/", "2027-01-31"])
    elif kind == "value" and element.attrib:
        name = rng.choice(sorted(element.attrib))
        element.set(name, rng.choice(["", "Start", "nowhere", "false", "1", "task", "P1D",
                                      "Rp 1", "pbg", "Flow_start"]))


@pytest.mark.parametrize("kind", ["attribute", "element", "text", "value"])
def test_random_mutations(kind):
    for mutated in _mutations(kind, 30):
        _survives(mutated)


def test_random_bytes_flipped():
    rng = random.Random(SEED)
    data = bytearray(PACKAGE.bpmn)
    for _ in range(30):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        _survives(bytes(mutated))
