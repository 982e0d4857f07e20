"""Link events: a pair of events that stands for a sequence flow, drawn to tidy a diagram.

Camunda Modeler draws a link throw event where a path leaves the page and a link catch
event with the same link name where it continues. SpiffWorkflow 3.2.0 does not know link
events; to it both are dangling. Within one process or sub-process, each throw event is
paired with the catch event of its name; the graph checks see the pair as a flow, and the
copy SpiffWorkflow runs gets a real sequence flow between the two (`spiff_compat.bpmn_rewrites`).
"""

from __future__ import annotations

from lxml import etree

from engine.modeling.bpmn import ModelScan, children, kind, q


def is_link(event: etree._Element) -> bool:
    """Whether `event` is a link event (its pairing is checked by `pair_links`)."""
    return bool(children(event, "linkEventDefinition"))


def _link_name(event: etree._Element) -> str | None:
    """The link name of a link event, None for any other event ('' when unnamed)."""
    definitions = children(event, "linkEventDefinition")
    if not definitions:
        return None
    return (definitions[0].get("name") or event.get("name") or "").strip()


def pair_links(
    scan: ModelScan,
    nodes: dict[str, etree._Element],
    incoming: dict[str, list[etree._Element]],
    outgoing: dict[str, list[etree._Element]],
) -> list[tuple[str, str]]:
    """(throw id, catch id) for every link throw event among `nodes` (one scope), with a
    flow-like element added to `outgoing`/`incoming` for the graph checks; every link
    that cannot be paired is a problem."""
    catches: dict[str, etree._Element] = {}
    throws: list[tuple[etree._Element, str]] = []
    for node_id, node in nodes.items():
        name = _link_name(node)
        if name is None:
            continue
        if not name:
            scan.add(f"{scan.label(node)} is a link event without a link name", node)
        elif kind(node) == "intermediateCatchEvent":
            if name in catches:
                scan.add(
                    f"{scan.label(node)} catches the link {name!r}, as "
                    f"{scan.label(catches[name])} does; one catch event per link name",
                    node,
                )
            else:
                catches[name] = node
            if incoming.get(node_id):
                scan.add(f"{scan.label(node)} is a link catch event: no flow may lead to it",
                         node)
        else:
            throws.append((node, name))
            if outgoing.get(node_id):
                scan.add(f"{scan.label(node)} is a link throw event: no flow may leave it",
                         node)
    pairs = []
    for throw, name in throws:
        catch = catches.get(name)
        if catch is None:
            scan.add(
                f"{scan.label(throw)} throws the link {name!r}, but no link catch event of "
                "that name is in the same process or sub-process",
                throw,
            )
            continue
        link = etree.Element(q("sequenceFlow"), sourceRef=throw.get("id"),
                             targetRef=catch.get("id"))
        outgoing.setdefault(throw.get("id"), []).append(link)
        incoming.setdefault(catch.get("id"), []).append(link)
        pairs.append((throw.get("id"), catch.get("id")))
    return pairs
