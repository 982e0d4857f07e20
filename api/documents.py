"""Issued documents: public verification (JSON or the citizen's page), revocation, downloads
by tracking code and by application, and the regions' signing keys (issue #14 item 3)."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, request, send_file
from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.read_schemas import (
    DocumentSummarySchema,
    DocumentVerificationSchema,
    SigningKeySchema,
    UploadVerificationSchema,
)
from api.schemas import RevocationArgsSchema
from api.web.verify import verify_page, verify_upload_page
from api.wiring import ctx
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.services import documents, verification

blp = Blueprint(
    "documents", __name__,
    description="Issued permits and letters: verification, revocation, downloads, keys",
)

PDF_RESPONSE = {"200": {"description": "the PDF exactly as issued", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}
UPLOAD_BODY = {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "the PDF to check"}},
}}}}


def _wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _pdf(name_and_bytes: tuple[str, bytes]) -> Response:
    name, data = name_and_bytes
    return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=name,
                     as_attachment=True, max_age=0)


def _uploaded_pdf() -> bytes:
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise InvalidInputError("upload the PDF in the multipart file field 'file'",
                                [Problem("missing file field", field="file")])
    return bytes(storage.read())


@blp.route("/verify/<number>")
class Verify(MethodView):
    @blp.doc(security=[])
    @blp.response(200, DocumentVerificationSchema)
    def get(self, number: str) -> Any:
        """Public: whether document NUMBER is genuine, its holder and status (JSON or HTML)"""
        if _wants_html():
            return verify_page(number)
        return verification.verify_number(ctx(), number)


@blp.route("/api/v1/verify/<number>")
class VerifyJson(MethodView):
    @blp.doc(security=[])
    @blp.response(200, DocumentVerificationSchema)
    def get(self, number: str) -> Any:
        """Public: whether document NUMBER is genuine, its holder and status"""
        return verification.verify_number(ctx(), number)


@blp.route("/verify")
class VerifyUpload(MethodView):
    @blp.doc(security=[], requestBody=UPLOAD_BODY)
    @blp.response(200, UploadVerificationSchema)
    def post(self) -> Any:
        """Public: whether an uploaded PDF is exactly a document issued here (JSON or HTML)"""
        if _wants_html():
            return verify_upload_page()
        return verification.verify_upload(ctx(), _uploaded_pdf())


@blp.route("/api/v1/verify")
class VerifyUploadJson(MethodView):
    @blp.doc(security=[], requestBody=UPLOAD_BODY)
    @blp.response(200, UploadVerificationSchema)
    def post(self) -> Any:
        """Public: whether an uploaded PDF is exactly a document issued here"""
        return verification.verify_upload(ctx(), _uploaded_pdf())


@blp.route("/api/v1/documents/<number>/revoke")
class Revoke(MethodView):
    @blp.arguments(RevocationArgsSchema)
    @blp.response(200, DocumentVerificationSchema)
    def post(self, body: dict[str, Any], number: str) -> Any:
        """Revoke an issued document with its reason (supervisor of its region; audited)"""
        return verification.revoke(ctx(), current_actor(), number, body["reason"])


@blp.route("/api/v1/applications/<uuid:application_id>/documents")
class ApplicationDocuments(MethodView):
    @blp.response(200, DocumentSummarySchema(many=True))
    def get(self, application_id: uuid.UUID) -> Any:
        """The documents issued to an application"""
        return verification.application_documents(ctx(), current_actor(), application_id)


@blp.route("/api/v1/applications/<uuid:application_id>/documents/<number>")
class ApplicationDocument(MethodView):
    @blp.doc(responses=PDF_RESPONSE)
    def get(self, application_id: uuid.UUID, number: str) -> Any:
        """Download one of an application's documents (PDF, as issued)"""
        return _pdf(verification.application_pdf(ctx(), current_actor(), application_id, number))


@blp.route("/track/<code>/documents")
class TrackedDocuments(MethodView):
    @blp.doc(security=[])
    @blp.response(200, DocumentSummarySchema(many=True))
    def get(self, code: str) -> Any:
        """Public by tracking code: the documents issued to the application"""
        return verification.documents_by_tracking_code(ctx(), code)


@blp.route("/track/<code>/documents/<number>")
class TrackedDocument(MethodView):
    @blp.doc(security=[], responses=PDF_RESPONSE)
    def get(self, code: str, number: str) -> Any:
        """The applicant's download by tracking code (PDF, as issued)"""
        return _pdf(verification.pdf_by_tracking_code(ctx(), code, number))


@blp.route("/api/v1/regions/<region>/signing-keys")
class SigningKeys(MethodView):
    @blp.doc(security=[])
    @blp.response(200, SigningKeySchema(many=True))
    def get(self, region: str) -> Any:
        """Public: a region's document-signing public keys, retired ones included"""
        return documents.region_keys(ctx(), region)

    @blp.response(201, SigningKeySchema)
    def post(self, region: str) -> Any:
        """Rotate the region's signing key (admin): a new key signs, the old still verifies"""
        return documents.rotate_key(ctx(), current_actor(), region)
