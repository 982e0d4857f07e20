"""Hardened parsing of an uploaded BPMN file: bytes in, a tree or located problems out.

An upload is hostile until proven otherwise (DESIGN §8): no DTD is loaded, no entity is
resolved, nothing is fetched from the network, `huge_tree` stays off (libxml2 then refuses
billion-laughs and huge text nodes), and we bound size and nesting ourselves. Any document
that declares a DTD or entities is refused outright, even when harmless: BPMN never needs one.
"""

from __future__ import annotations

from lxml import etree

from engine.domain.problems import Problem
from engine.modeling.bpmn import BPMN

MAX_BPMN_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 100
NO_DTD = "DTDs and entities are not allowed in a BPMN upload"
_DTD_MARKERS = (
    b"<!DOCTYPE",
    b"<!ENTITY",
    "<!DOCTYPE".encode("utf-16-le"),
    "<!DOCTYPE".encode("utf-16-be"),
)


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )


def parse_bpmn(data: bytes, filename: str) -> tuple[etree._Element | None, list[Problem]]:
    """Parse uploaded bytes into the root of a BPMN 2.0 document.

    Bytes go to lxml unchanged so that the XML declaration decides the encoding
    (UTF-8, UTF-16 with BOM, ISO-8859-1, ...). Returns (root, []) or (None, problems).
    """

    def problem(message: str, line: int | None = None) -> tuple[None, list[Problem]]:
        return None, [Problem(message, line=line, file=filename)]

    if not data.strip():
        return problem("the BPMN file is empty")
    if len(data) > MAX_BPMN_BYTES:
        return problem(f"the BPMN file is {len(data):,} bytes; the limit is {MAX_BPMN_BYTES:,}")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        if any(marker in data for marker in _DTD_MARKERS):
            return problem(NO_DTD, _doctype_line(data))
        return problem(_syntax_message(exc), exc.lineno)
    except (ValueError, etree.LxmlError) as exc:  # e.g. an unknown encoding name
        return problem(f"the file cannot be read as XML: {exc}")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        return problem(NO_DTD, _doctype_line(data))
    return _check_shape(root, filename)


def _doctype_line(data: bytes) -> int:
    """Line of the DOCTYPE in an ASCII-compatible file; 1 when it cannot be told."""
    index = data.find(b"<!DOCTYPE")
    return data.count(b"\n", 0, index) + 1 if index >= 0 else 1


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    text = str(exc.msg or exc).split(", line ")[0]
    if "depth" in text.lower():
        return f"the XML is nested too deeply (more than {MAX_DEPTH} levels)"
    return f"the file is not well-formed XML: {text}"


def _check_shape(
    root: etree._Element, filename: str
) -> tuple[etree._Element | None, list[Problem]]:
    too_deep = _first_too_deep(root)
    if too_deep is not None:
        message = f"the XML is nested too deeply (more than {MAX_DEPTH} levels)"
        return None, [Problem(message, line=too_deep.sourceline, file=filename)]
    if root.tag != f"{{{BPMN}}}definitions":
        found = etree.QName(root).text if isinstance(root.tag, str) else "?"
        message = (
            f"this is not a BPMN 2.0 file: the root element is {found}, expected "
            f"definitions in the namespace {BPMN}"
        )
        return None, [Problem(message, line=root.sourceline, file=filename)]
    return root, []


def _first_too_deep(root: etree._Element) -> etree._Element | None:
    """The first element nested deeper than MAX_DEPTH, found in one linear walk."""
    depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_DEPTH:
            return element
    return None
