"""Message catchers must name their message: a message is delivered by its name.

SpiffWorkflow 3.2.0 reads a receive task without `messageRef` as a plain task that
completes at once, and a message event without one as an event that can never be
matched: the first skipped the wait silently, the second stalled for good. Both are
refused here with what to write; so is a `bpmn:message` without a name, which no
`POST /api/v1/messages` could ever address.
"""

from __future__ import annotations

from lxml import etree

from engine.modeling.bpmn import ModelScan, kind

_CATCHING_EVENTS = ("startEvent", "intermediateCatchEvent", "boundaryEvent")
_HOW = (
    "declare the message once beside the process, e.g. "
    '<bpmn:message id="Message_paid" name="payment-confirmed"/>, and set '
    'messageRef="Message_paid" on {where} (in Camunda Modeler: the Message field of the '
    "element's properties); the name is what POST /api/v1/messages sends"
)


def check_message_catchers(scan: ModelScan) -> None:
    """Every receive task and message catch event names a declared, named message."""
    for task in scan.elements("receiveTask"):
        _check_ref(scan, task, task, "the receive task")
    for definition in scan.elements("messageEventDefinition"):
        event = definition.getparent()
        if kind(event) in _CATCHING_EVENTS:
            _check_ref(scan, event, definition, "its bpmn:messageEventDefinition")


def _check_ref(
    scan: ModelScan, element: etree._Element, holder: etree._Element, where: str
) -> None:
    ref = (holder.get("messageRef") or "").strip()
    if not ref:
        scan.add(
            f"{scan.label(element)} waits for a message but names none (messageRef is "
            f"missing): {_HOW.format(where=where)}",
            element,
            field="messageRef",
        )
        return
    message = scan.by_id.get(ref)
    if message is None or kind(message) != "message":
        if holder is element:  # event definitions' references are checked by `constructs`
            scan.add(
                f"{scan.label(element)} refers to messageRef={ref!r}, but the file defines "
                "no bpmn:message with that id",
                element,
                field="messageRef",
            )
        return
    if not (message.get("name") or "").strip():
        scan.add(
            f"bpmn:message {ref!r}, which {scan.label(element)} waits for, has no name: "
            'give it one, e.g. name="payment-confirmed"; POST /api/v1/messages sends that name',
            message,
            field="name",
        )
