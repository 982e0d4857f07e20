"""Applicants' documents (the requirements' uploads) over HTTP (issue #14 item 4): upload by
tracking code or at the counter, the receipt (tanda terima), download, rejection with a reason,
archive deletion.

An upload's body is the file itself (any content type: it is not trusted) or a multipart
form with the file in the field `file`. The size is checked on the declared length before
the body is read, and again on what arrives.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, fields

from api.auth import current_actor
from api.blueprint import Blueprint
from api.fields import text as bounded
from api.wiring import ctx
from engine.domain.document_content import too_large
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.services import applicant_documents as documents

blp = Blueprint(
    "applicant_documents",
    __name__,
    description="Applicants' documents (dokumen persyaratan) and their receipt (tanda terima)",
)

MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_BODY = {
    "description": "the document (PDF, JPEG or PNG, told by its content), raw or as the "
    "multipart field `file`",
    "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}
FILENAME_ARG = {
    "name": "filename",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "the file's name, for display only (a multipart part's name wins)",
}


class DocumentSchema(Schema):
    id = fields.Integer()
    requirement = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    media_type = fields.String()
    status = fields.String(metadata={"description": "received, rejected or superseded"})
    reason = fields.String(allow_none=True)
    uploaded_at = fields.AwareDateTime()
    filename = fields.String()
    store = fields.String()
    uploaded_by = fields.String()
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.AwareDateTime(allow_none=True)
    deleted_at = fields.AwareDateTime(allow_none=True)


class ReceiptItemSchema(Schema):
    requirement = fields.String()
    name = fields.Dict()
    mandatory = fields.Boolean()
    status = fields.String(metadata={"description": "received, rejected or missing"})
    document = fields.Nested(DocumentSchema, allow_none=True)


class ReceiptSchema(Schema):
    tracking_code = fields.String()
    title = fields.String()
    issued_at = fields.AwareDateTime()
    items = fields.List(fields.Nested(ReceiptItemSchema))
    complete = fields.Boolean(metadata={"description": "every mandatory document received"})
    missing = fields.List(fields.String())
    rejected = fields.List(fields.String())
    retention_years = fields.Integer(allow_none=True)
    kept_until = fields.AwareDateTime(allow_none=True)
    history = fields.List(fields.Nested(DocumentSchema))


class RejectSchema(Schema):
    reason = bounded(min_length=1, max_length=documents.MAX_REASON, required=True)


def _upload(requirement: str) -> tuple[bytes, str | None]:
    """The uploaded bytes and the sender's file name, refusing a body over the limit
    (by its declared length first: nothing of a huge body is read)."""
    limit = ctx().document_max_bytes
    documents.check_requirement(requirement)
    declared = request.content_length
    if declared is not None and declared > limit + MULTIPART_OVERHEAD:
        raise too_large(requirement, limit)
    if request.mimetype == "multipart/form-data":
        part = request.files.get("file")
        if part is None:
            raise InvalidInputError(
                "send the document in the multipart field 'file'",
                [Problem("missing file field", field="file")],
            )
        data, name = part.read(limit + 1), part.filename
    else:
        data = request.stream.read(limit + 1)
        name = request.args.get("filename")
    if len(data) > limit:
        raise too_large(requirement, limit)
    return data, name


@blp.route("/track/<code>/requirements")
class TrackedReceipt(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ReceiptSchema)
    def get(self, code: str) -> Any:
        """Public: the receipt (tanda terima) of an application's documents"""
        return documents.receipt_by_code(ctx(), code)


@blp.route("/track/<code>/requirements/<requirement>")
class TrackedUpload(MethodView):
    @blp.doc(security=[], requestBody=UPLOAD_BODY, parameters=[FILENAME_ARG])
    @blp.response(201, DocumentSchema)
    def put(self, code: str, requirement: str) -> Any:
        """Public: the applicant uploads the document for one requirement (by tracking code)"""
        data, name = _upload(requirement)
        return documents.upload_by_code(ctx(), code, requirement, data, name)


@blp.route("/api/v1/applications/<uuid:application_id>/requirements")
class Receipt(MethodView):
    @blp.response(200, ReceiptSchema)
    def get(self, application_id: uuid.UUID) -> Any:
        """The receipt of an application's documents, with every upload (officers)"""
        return documents.receipt_for(ctx(), current_actor(), application_id)


@blp.route("/api/v1/applications/<uuid:application_id>/requirements/<requirement>")
class Upload(MethodView):
    @blp.doc(requestBody=UPLOAD_BODY, parameters=[FILENAME_ARG])
    @blp.response(201, DocumentSchema)
    def put(self, application_id: uuid.UUID, requirement: str) -> Any:
        """Upload the document for one requirement for the applicant (the counter)"""
        data, name = _upload(requirement)
        return documents.upload_for(ctx(), current_actor(), application_id, requirement, data,
                                    name)


@blp.route("/api/v1/applications/<uuid:application_id>/uploads/<int:document_id>")
class Document(MethodView):
    @blp.response(200, DocumentSchema)
    def delete(self, application_id: uuid.UUID, document_id: int) -> Any:
        """Delete a document the archive rule no longer keeps (admin); refused before"""
        return documents.delete(ctx(), current_actor(), application_id, document_id)


@blp.route("/api/v1/applications/<uuid:application_id>/uploads/<int:document_id>/content")
class Content(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"},
                  content_type="application/octet-stream")
    def get(self, application_id: uuid.UUID, document_id: int) -> Any:
        """Download a document (officers of the application; the view is audited)"""
        found = documents.download(ctx(), current_actor(), application_id, document_id)
        response = Response(found.content, mimetype=found.media_type)
        # Never rendered inline or sniffed as something else by a browser.
        response.headers["Content-Disposition"] = _attachment(found.filename)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response.headers["Digest"] = "sha-256=" + _b64(found.sha256)
        return response


@blp.route("/api/v1/applications/<uuid:application_id>/uploads/<int:document_id>/reject")
class Reject(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, DocumentSchema)
    def post(self, body: dict[str, Any], application_id: uuid.UUID, document_id: int) -> Any:
        """Mark a document rejected with the reason the applicant will see (officers)"""
        return documents.reject(
            ctx(), current_actor(), application_id, document_id, body["reason"]
        )


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_"
                         for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _b64(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode()
