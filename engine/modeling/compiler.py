"""`compile_model`: a model package in, a `CompiledModel` or every problem with it out.

The order matters only for cost and for the clarity of what is reported: the XML is
parsed by our hardened parser first; then the structure, steps, timers and expressions
are checked, each collecting problems without stopping; SpiffWorkflow sees the model
only when all of that found nothing, because its errors on a broken model are misleading.
Form files and the service standard's components are checked whatever the BPMN holds; the
standard is checked against the model's time limit and fees once the BPMN is sound.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from engine.domain.definitions import (
    CallDefinition,
    CompiledModel,
    InstanceCollection,
    ModelPackage,
    StepDefinition,
    TimerDefinition,
)
from engine.domain.errors import ModelInvalidError
from engine.domain.problems import Problem
from engine.modeling import (
    calls,
    constructs,
    eventrefs,
    expressions,
    graph,
    lengths,
    messages,
    multiinstance,
    service_tasks,
    structure,
)
from engine.modeling.bpmn import ModelScan
from engine.modeling.documents import read_forms, read_standard
from engine.modeling.extensions import read_properties
from engine.modeling.fee_formulas import attach_formulas
from engine.modeling.issued_documents import (
    DocumentDeclaration,
    attach_templates,
    read_declarations,
)
from engine.modeling.standard_check import check_against_model, check_components
from engine.modeling.steps import read_steps
from engine.modeling.timers import read_timers
from engine.modeling.values import canonical_sla
from engine.modeling.xmlsafe import parse_bpmn
from engine.sandbox import check_code
from engine.workflow.specs import build_spec, schema_problems
from engine.workflow.spiff_compat import spiff_copy
from forms import schema_problems as form_schema_problems

MAX_REPORTED = 500
_log = logging.getLogger(__name__)


@dataclass
class _Declared:
    """What the BPMN declares, gathered while checking it."""

    key: str = ""
    title: str = ""
    process_sla: str | None = None
    deemed_approval: bool = False
    steps: list[StepDefinition] = field(default_factory=list)
    timers: list[TimerDefinition] = field(default_factory=list)
    calls: list[CallDefinition] = field(default_factory=list)
    documents: list[DocumentDeclaration] = field(default_factory=list)
    spec: dict[str, Any] | None = None


def compile_model(package: ModelPackage) -> CompiledModel:
    """Validate a model package and compile it.

    Raises: ModelInvalidError(problems=[...]) listing every problem found, sorted by file
    and line; never any other exception for any input.
    """
    forms, problems = read_forms(package.forms, form_schema_problems)
    standard, standard_problems = read_standard(package.standard)
    standard_problems += check_components(standard)
    declared, bpmn_problems = _compile_bpmn(
        package.bpmn, package.bpmn_name, frozenset(package.forms)
    )
    steps, formula_problems = attach_formulas(declared.steps, standard, package.decisions)
    if not bpmn_problems:  # the model's facts are known: the standard is checked against them
        standard_problems += check_against_model(
            standard, declared.process_sla, steps, declared.key
        )
    documents, document_problems = attach_templates(declared.documents, standard, forms)
    problems = (bpmn_problems + problems + standard_problems + formula_problems
                + document_problems)
    if problems or declared.spec is None:
        raise _invalid(package.bpmn_name, problems)
    return CompiledModel(
        key=declared.key,
        title=declared.title,
        process_sla=declared.process_sla,
        steps=tuple(steps),
        timers=tuple(declared.timers),
        forms=forms,
        standard=standard,
        bpmn=package.bpmn,
        spec=declared.spec,
        deemed_approval=declared.deemed_approval,
        calls=tuple(declared.calls),
        documents=tuple(documents),
    )


def _compile_bpmn(
    data: bytes, filename: str, forms: frozenset[str]
) -> tuple[_Declared, list[Problem]]:
    declared = _Declared()
    scan: ModelScan | None = None
    try:
        root, problems = parse_bpmn(data, filename)
        if root is None:
            return declared, problems
        scan = ModelScan(root, filename)
        _check(scan, declared, forms)
        return declared, scan.problems
    except Exception as exc:
        # A bug of ours must not become a stack trace for the analyst; it is logged in full.
        _log.exception("model check failed on %s", filename)
        found = scan.problems if scan is not None else []
        message = (
            f"the model could not be checked completely ({type(exc).__name__}); "
            "please report this file to the administrators"
        )
        return _Declared(), [*found, Problem(message, file=filename)]


def _check(scan: ModelScan, declared: _Declared, forms: frozenset[str]) -> None:
    structure.index_ids(scan)
    eventrefs.inline_event_definitions(scan)
    structure.choose_process(scan)
    if scan.process is None or not structure.check_size(scan):
        return
    declared.key, declared.title = structure.key_and_title(scan)
    declared.process_sla = _process_sla(scan)
    declared.deemed_approval = _deemed_approval(scan)
    structure.check_ids(scan)
    scan.problems += schema_problems(scan.root, filename=scan.filename)
    scopes = graph.build_scopes(scan)
    for check in (graph.check_connections, graph.check_boundaries, constructs.check_gateways):
        check(scan, scopes)
    constructs.check_unsupported(scan)
    constructs.check_not_run(scan)
    messages.check_message_catchers(scan)
    service_tasks.check_service_tasks(scan)
    declared.calls = calls.read_calls(scan)
    declared.documents = read_declarations(scan)
    declared.steps = read_steps(scan, forms, graph.walk_order(scan, scopes))
    lengths.check_lengths(scan, declared.title, declared.process_sla, declared.steps)
    declared.timers, timer_texts = read_timers(scan, check_code)
    conditions = expressions.check_conditions(scan, check_code)
    expressions.check_scripts(scan, check_code)
    expressions.check_other_expressions(scan, check_code)
    collections = multiinstance.read_collections(scan)
    links = [pair for scope in scopes for pair in scope.links]
    if not scan.problems:
        _build(scan, declared, conditions, timer_texts, collections, links)


def _process_sla(scan: ModelScan) -> str | None:
    assert scan.process is not None
    declared = read_properties(scan, scan.process).get("sla")
    if declared is None:
        return None
    try:
        return canonical_sla(declared.value)
    except ValueError as exc:
        scan.add(
            f"the process SLA: {exc}",
            declared.element,
            element_id=scan.process.get("id"),
            field="sla",
        )
        return None


def _deemed_approval(scan: ModelScan) -> bool:
    """The process property `deemedApproval` ("true"/"false"): silence past the process SLA
    means approval (fiktif positif, UU 30/2014 art. 53 as amended by UU 6/2023)."""
    assert scan.process is not None
    declared = read_properties(scan, scan.process).get("deemedApproval")
    if declared is None:
        return False
    value = declared.value.strip().lower()
    if value not in ("true", "false"):
        scan.add(
            f"the process property deemedApproval must be true or false, not {declared.value!r}",
            declared.element,
            element_id=scan.process.get("id"),
            field="deemedApproval",
        )
    return value == "true"


def _build(
    scan: ModelScan,
    declared: _Declared,
    conditions: dict[str, str],
    timers: dict[str, str],
    collections: list[InstanceCollection],
    links: list[tuple[str, str]],
) -> None:
    tree = spiff_copy(
        scan.root,
        declared.key,
        conditions=conditions,
        timers=timers,
        collections=collections,
        links=links,
    )
    declared.spec, problems = build_spec(tree, declared.key, filename=scan.filename)
    scan.problems += problems


def _invalid(filename: str, problems: list[Problem]) -> ModelInvalidError:
    if not problems:  # cannot happen; never raise an empty rejection
        problems = [Problem("the model could not be compiled", file=filename)]
    problems = sorted(
        problems,
        key=lambda p: (
            p.file not in (None, filename),
            p.file or "",
            p.line or 0,
            p.element_id or "",
            p.message,
        ),
    )
    count = len(problems)
    if count > MAX_REPORTED:
        rest = count - MAX_REPORTED
        problems = [
            *problems[:MAX_REPORTED],
            Problem(f"... and {rest} more problems", file=filename),
        ]
    files = sorted({p.file or filename for p in problems})
    where = files[0] if len(files) == 1 else f"{filename} and its files"
    noun = "problem" if count == 1 else "problems"
    return ModelInvalidError(f"{count} {noun} in {where}", problems)
