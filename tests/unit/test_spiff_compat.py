"""The SpiffWorkflow workarounds are checked against one library version, and install once."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from engine.workflow import spiff_compat
from engine.workflow.spiff_compat import clock, event_gateway, multi_instance

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_spiffworkflow_is_the_one_the_workarounds_were_checked_against() -> None:
    # Another version may fix, break or move what engine/workflow/spiff_compat patches:
    # check each row of its README, then update CHECKED_AGAINST and the pin together.
    assert version("spiffworkflow") == spiff_compat.CHECKED_AGAINST
    pin = re.search(r'"spiffworkflow==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin is not None and pin.group(1) == spiff_compat.CHECKED_AGAINST


def test_install_is_idempotent_and_wraps_the_library_originals_once() -> None:
    spiff_compat.install()
    spiff_compat.install()
    multi_instance.install()  # even called again directly, it never wraps itself
    assert MultiInstanceTask.create_child is multi_instance._bounded_create_child
    assert multi_instance._create_child is not multi_instance._bounded_create_child
    assert MultiInstanceTask.merge_child is multi_instance._scoped_merge_child
    assert spiff_timer.datetime is clock._EngineDateTime
    assert MultipleEventDefinition.has_fired is event_gateway._has_fired
    assert event_gateway._gateway_run is not event_gateway._first_event_wins


def test_every_workaround_names_a_test_that_exists() -> None:
    readme = (ROOT / "engine/workflow/spiff_compat/README.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", readme)
    assert len(named) >= 8
    for path, test in named:
        assert f"def {test}(" in (ROOT / path).read_text(), f"{path}::{test}"
