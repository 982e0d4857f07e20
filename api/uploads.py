"""Turning an upload request (multipart, zip, or raw XML) into a ModelPackage."""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import FileStorage, MultiDict

from engine.domain.definitions import ModelPackage
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.modeling import read_package_zip

XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml")


def package_from_request() -> ModelPackage:
    """The model package in this request.

    Raises: InvalidInputError when no usable file field is present; ModelInvalidError
    for a bad zip.
    """
    if request.mimetype in XML_TYPES:
        return ModelPackage(bpmn=request.get_data())
    # A browser sends an empty part for every file input left empty: those are absent.
    files = MultiDict([(k, f) for k, f in request.files.items(multi=True) if f.filename])
    if "package" in files:
        return read_package_zip(files["package"].read())
    if "bpmn" not in files:
        raise InvalidInputError(
            "upload a model as multipart/form-data with a file field 'bpmn' (plus 'forms' files, "
            "an optional 'standard' and 'decisions' DMN files), or one zip in the field "
            "'package'",
            [Problem("missing file field", field="bpmn")],
        )
    bpmn = files["bpmn"]
    forms = {_name(f): f.read() for f in files.getlist("forms")}
    standard = files["standard"].read() if "standard" in files else None
    decisions = {_name(f): f.read() for f in files.getlist("decisions")}
    return ModelPackage(
        bpmn=bpmn.read(), forms=forms, standard=standard, bpmn_name=_name(bpmn) or "model.bpmn",
        decisions=decisions,
    )


def _name(storage: FileStorage) -> str:
    # Only the base name: a client's directory names mean nothing here.
    return (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
