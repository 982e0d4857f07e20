"""Service tasks are worked by external workers: each names the topic they fetch.

A send task is the same to the engine: permitflow sends nothing itself, so a worker
fetches it by its topic and sends the message (Camunda 7's external send task).

permitflow runs no code of its own for a service task (no Java delegates, no connectors):
a worker fetches it by topic (`POST /api/v1/external-tasks/fetch-and-lock`) and answers.
A service task that names no topic could never be fetched and would stall; it is refused
here with what to write, as Camunda 7 (`camunda:type="external" camunda:topic`) and
Camunda 8 (`zeebe:taskDefinition type`) write it.
"""

from __future__ import annotations

from engine.modeling.bpmn import CAMUNDA, ModelScan
from engine.workflow.external_tasks import topic_of

_JAVA = ("class", "expression", "delegateExpression")
_HOW = (
    'write camunda:type="external" camunda:topic="<topic>" on it (Camunda Modeler 7: '
    'Implementation "External", Topic), or <zeebe:taskDefinition type="<topic>"/> in its '
    "extensionElements (Camunda Modeler 8: Task definition type); a worker then fetches it "
    "with POST /api/v1/external-tasks/fetch-and-lock"
)


def check_service_tasks(scan: ModelScan) -> None:
    """Every service task and send task names a topic (a send task is worked by a worker
    that sends the message, as Camunda 7 allows); Java implementations are refused."""
    for task in scan.elements("serviceTask", "sendTask"):
        java = [a for a in _JAVA if task.get(f"{{{CAMUNDA}}}{a}")]
        if java:
            scan.add(
                f"{scan.label(task)} is implemented by camunda:{java[0]}, Java code that "
                f"permitflow does not run: {_HOW}",
                task,
                field=f"camunda:{java[0]}",
            )
        elif not topic_of(task):
            scan.add(
                f"{scan.label(task)} names no topic for an external worker: {_HOW}",
                task,
                field="camunda:topic",
            )
